#include <spur/http/cookie.hpp>

#include <spur/response.hpp>
#include <spur/strings.hpp>

#include "util/http_date.hpp"
#include "util/url.hpp"

#include <stdexcept>

namespace spur {

namespace {

// RFC 6265 cookie-octet, minus '%' so that our percent-encoding round-trips.
bool is_cookie_octet(unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x2B && c != '%') || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E);
}

void check_attribute(std::string_view what, std::string_view value) {
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7F || c == ';')
            throw std::invalid_argument("cookie " + std::string(what) + " contains a forbidden character");
}

}  // namespace

std::string serialize_cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
    if (name.empty()) throw std::invalid_argument("cookie name is empty");
    // A cookie name is an RFC 9110 token, like a header field name.
    if (!is_valid_header_name(name)) throw std::invalid_argument("cookie name is not a token: " + std::string(name));
    check_attribute("path", options.path);
    check_attribute("domain", options.domain);

    std::string out;
    out.reserve(name.size() + value.size() + 64);
    out.append(name).push_back('=');
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char c : value) {
        if (is_cookie_octet(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    if (!options.path.empty()) out.append("; Path=").append(options.path);
    if (!options.domain.empty()) out.append("; Domain=").append(options.domain);
    if (options.max_age) out.append("; Max-Age=").append(std::to_string(options.max_age->count()));
    if (options.expires) out.append("; Expires=").append(detail::format_http_date(*options.expires));
    if (options.http_only) out.append("; HttpOnly");
    // Browsers drop SameSite=None cookies that are not Secure.
    if (options.secure || options.same_site == SameSite::none) out.append("; Secure");
    switch (options.same_site) {
        case SameSite::none: out.append("; SameSite=None"); break;
        case SameSite::lax: out.append("; SameSite=Lax"); break;
        case SameSite::strict: out.append("; SameSite=Strict"); break;
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_cookie_header(std::string_view header) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!header.empty()) {
        auto semi = header.find(';');
        auto part = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) continue;
        auto name = trim(part.substr(0, eq));
        auto value = trim(part.substr(eq + 1));
        if (name.empty()) continue;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        out.emplace_back(std::string(name), detail::percent_decode_lenient(value, false));
    }
    return out;
}

}  // namespace spur
