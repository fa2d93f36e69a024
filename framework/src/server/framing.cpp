#include "server/framing.hpp"

#include <algorithm>

#include <spur/strings.hpp>

#include <boost/beast/core/string.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace spur::detail {

HeaderScanner::State HeaderScanner::reject(int status, const char* code, const char* message) noexcept {
    rejection_ = Rejection{status, code, message};
    return State::rejected;
}

namespace {
// The bytes the scanner stops at; everything else is skipped a run at a time (a check per
// byte made this scan cost more than Beast's whole parse of the header).
constexpr auto stop_bytes = [] {
    std::array<bool, 256> stop{};
    stop['\r'] = stop['\n'] = stop['\0'] = true;
    return stop;
}();
}  // namespace

HeaderScanner::State HeaderScanner::scan(std::string_view data) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    while (pos_ < data.size()) {
        if (in_fields_ && pos_ == line_start_ && (bytes[pos_] == ' ' || bytes[pos_] == '\t'))
            return reject(400, "bad_request", "Obsolete line folding in request header");
        std::size_t end = pos_;
        // Eight bytes at a time while none is below 0x0E, where CR, LF and NUL are (a tab also
        // ends the word-wise skip and is passed byte by byte): a pipelined request's header
        // cost about 370 instructions here a byte at a time.
        constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        while (end + 8 <= data.size()) {
            std::uint64_t word;
            std::memcpy(&word, bytes + end, 8);
            if (((word - 0x0E * ones) & ~word & highs) != 0) break;
            end += 8;
        }
        while (end < data.size() && !stop_bytes[bytes[end]]) ++end;
        pos_ = end;
        if (!in_fields_ && pos_ - line_start_ > max_request_line_)
            return reject(414, "uri_too_long", "Request line too long");
        if (in_fields_ && pos_ - fields_start_ > max_header_bytes_)
            return reject(431, "headers_too_large", "Request header fields too large");
        if (pos_ == data.size()) break;
        const char c = data[pos_];
        if (c == '\n') return reject(400, "bad_request", "Bare LF in request header");
        if (c == '\0') return reject(400, "bad_request", "NUL in request header");
        // CR
        if (pos_ + 1 >= data.size()) break;  // wait for the byte after CR
        if (data[pos_ + 1] != '\n') return reject(400, "bad_request", "Bare CR in request header");
        const std::size_t line_length = pos_ - line_start_;
        if (!in_fields_) {
            if (line_length == 0) {
                begin_ = line_start_ = pos_ + 2;  // empty line before the request line
                pos_ += 2;
                continue;
            }
            in_fields_ = true;
            fields_start_ = pos_ + 2;
        } else if (line_length == 0) {
            end_ = pos_ + 2;
            return State::complete;
        } else if (++fields_ > max_fields_) {
            // Each parsed field costs Beast about a hundred bytes beyond its text: thousands
            // of tiny ones in 16 KiB would hold far more memory than the header's size says.
            return reject(431, "headers_too_large", "Too many request header fields");
        }
        pos_ += 2;
        line_start_ = pos_;
    }
    return State::need_more;
}

namespace {

// RFC 3986 reg-name / IP-literal / port bytes, looked up a byte at a time (a chain of
// comparisons per byte cost more than the rest of check_framing).
constexpr auto host_bytes = [] {
    std::array<bool, 256> ok{};
    for (int c = 'a'; c <= 'z'; ++c) ok[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) ok[c] = true;
    for (int c = '0'; c <= '9'; ++c) ok[c] = true;
    for (unsigned char c : std::string_view("-.:[]_%~!$&'()*+,;=")) ok[c] = true;
    return ok;
}();

bool valid_host(std::string_view host) noexcept {
    for (unsigned char c : host)
        if (!host_bytes[c]) return false;
    return true;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Rejection check_framing(const http::request_header<>& header) noexcept {
    const unsigned version = header.version();
    if (version != 10 && version != 11) return {505, "http_version_not_supported", "HTTP version not supported"};

    if (header.method() == http::verb::connect) return {501, "not_implemented", "CONNECT is not supported"};
    const std::string_view target = header.target();
    const bool origin_form = !target.empty() && target.front() == '/';
    const bool absolute_form =
        !origin_form && (starts_with_nocase(target, "http://") || starts_with_nocase(target, "https://"));
    const bool asterisk_form = target == "*" && header.method() == http::verb::options;
    if (!origin_form && !absolute_form && !asterisk_form) return {400, "bad_request", "Malformed request target"};

    std::size_t te_count = 0;
    std::string_view te;
    std::size_t cl_count = 0;
    std::size_t host_count = 0;
    std::string_view host;
    for (const auto& field : header) {
        switch (field.name()) {
            case http::field::transfer_encoding:
                ++te_count;
                te = field.value();
                break;
            case http::field::content_length: {
                ++cl_count;
                auto v = trim(field.value());
                if (v.empty()) return {400, "bad_request", "Malformed Content-Length"};
                for (char c : v)
                    if (c < '0' || c > '9') return {400, "bad_request", "Malformed Content-Length"};
                break;
            }
            case http::field::host:
                ++host_count;
                host = field.value();
                break;
            default:
                break;
        }
    }
    if (te_count > 0) {
        // RFC 9112 §6.1: TE with CL is a smuggling attempt; HTTP/1.0 has no chunked coding.
        if (cl_count > 0) return {400, "bad_request", "Both Transfer-Encoding and Content-Length"};
        if (version == 10) return {400, "bad_request", "Transfer-Encoding in an HTTP/1.0 request"};
        if (te_count > 1 || !beast::iequals(trim(te), "chunked"))
            return {501, "not_implemented", "Unsupported Transfer-Encoding"};
    }
    if (host_count > 1) return {400, "bad_request", "Duplicate Host header"};
    if (host_count == 0 && version == 11) return {400, "bad_request", "Missing Host header"};
    if (host_count == 1 && !valid_host(trim(host))) return {400, "bad_request", "Malformed Host header"};
    return {};
}

// What is known of a request refused before its header parsed: method and target when
// the request line itself was sound, so the access log can still say what was asked.
Request::Message partial_header(std::string_view request_line) {
    Request::Message m;
    m.version(11);
    auto sp1 = request_line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return m;
    auto method = request_line.substr(0, sp1);
    auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const bool sound = !method.empty() && !target.empty() &&
                       std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
                       std::all_of(target.begin(), target.end(),
                                   [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7F; });
    if (sound) {
        m.method_string(method);
        m.target(target);
    }
    return m;
}

}  // namespace spur::detail
