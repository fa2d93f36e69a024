#include "validation.hpp"

#include <spur/strings.hpp>

#include <boost/json/object.hpp>

#include <charconv>

namespace app {

void invalid(std::string message) { throw spur::HttpError(400, "validation_error", std::move(message)); }

const boost::json::object& body_object(const boost::json::value& body) {
    if (!body.is_object()) invalid("The request body must be a JSON object");
    return body.as_object();
}

std::string_view required_string(const boost::json::object& body, std::string_view key) {
    auto it = body.find(key);
    if (it == body.end() || !it->value().is_string()) invalid(std::string(key) + " is required and must be a string");
    return it->value().as_string();
}

std::optional<std::string_view> optional_string(const boost::json::object& body, std::string_view key) {
    auto it = body.find(key);
    if (it == body.end() || it->value().is_null()) return std::nullopt;
    if (!it->value().is_string()) invalid(std::string(key) + " must be a string");
    return std::string_view(it->value().as_string());
}

std::optional<std::size_t> utf8_length(std::string_view s) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++count) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return std::nullopt;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return std::nullopt;
        i += n;
    }
    return count;
}

std::string canonical_email(std::string_view email) {
    std::string e(spur::trim(email));
    for (auto& ch : e)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return e;
}

std::string normalized_email(std::string_view email) {
    std::string e = canonical_email(email);
    const auto at = e.find('@');
    const bool ok = !e.empty() && e.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
                    e.find('@', at + 1) == std::string::npos && e.find('.', at + 2) != std::string::npos &&
                    e.back() != '.' && e.find_first_of(" \t\r\n\"(),:;<>[\\]") == std::string::npos &&
                    utf8_length(e).has_value();
    if (!ok) invalid("email must be a valid e-mail address");
    return e;
}

std::optional<std::uint64_t> parse_id(std::string_view text) {
    std::uint64_t id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || p != text.data() + text.size() || id == 0) return std::nullopt;
    return id;
}

}  // namespace app
