#include "util/url.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace spur::detail {

namespace urls = boost::urls;

namespace {
urls::encoding_opts decoding(bool plus_is_space) {
    urls::encoding_opts opts;
    opts.space_as_plus = plus_is_space;
    return opts;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    if (in.empty()) return std::string();
    auto valid = urls::make_pct_string_view(in);
    if (!valid) return std::nullopt;
    return valid->decode(decoding(plus_is_space));
}

// Boost.URL refuses a malformed escape outright; browsers and Express's qs keep it as text,
// and so do query strings and cookies here.
std::string percent_decode_lenient(std::string_view in, bool plus_is_space) {
    if (auto strict = percent_decode(in, plus_is_space)) return std::move(*strict);
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        const int hi = c == '%' && i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
        const int lo = c == '%' && i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c == '+' && plus_is_space ? ' ' : c);
        }
    }
    return out;
}

// Split here, decoded by Boost.URL: Boost 1.81's urls::parse_query measures its input with
// strlen (boostorg/url#946), reading past a query that is a view into the request target.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        auto key = part.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
        out.emplace_back(percent_decode_lenient(key, true), percent_decode_lenient(value, true));
    }
    return out;
}

std::string percent_encode(std::string_view in) { return urls::encode(in, urls::unreserved_chars); }

}  // namespace spur::detail

namespace spur::detail {

namespace {
bool starts_with_nocase(std::string_view s, std::string_view lower_prefix) noexcept {
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

// The target without scheme/authority (absolute-form, RFC 9112 §3.2.2) and without a fragment.
std::string_view origin_part(std::string_view t) noexcept {
    // Nearly every target is origin-form ("/path?query"): no scheme to look for.
    const bool origin_form = !t.empty() && t.front() == '/';
    if (!origin_form && (starts_with_nocase(t, "http://") || starts_with_nocase(t, "https://"))) {
        auto authority = t.find("://") + 3;
        auto slash = t.find_first_of("/?", authority);
        t = slash == std::string_view::npos ? std::string_view{} : t.substr(slash);
    }
    auto hash = t.find('#');
    return hash == std::string_view::npos ? t : t.substr(0, hash);
}
}  // namespace

std::string_view target_path(std::string_view target) noexcept {
    auto t = origin_part(target);
    auto path = t.substr(0, t.find('?'));
    return path.empty() ? std::string_view("/") : path;
}

std::string_view target_query(std::string_view target) noexcept {
    auto t = origin_part(target);
    auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

}  // namespace spur::detail
