#include "middleware/multipart_parser.hpp"

#include "util/url.hpp"

#include <spur/strings.hpp>

#include <boost/beast/core/string.hpp>

namespace spur::detail {

namespace {

// Reads a token or quoted-string parameter value starting at s; advances s past it.
std::string read_value(std::string_view& s) {
    std::string out;
    if (!s.empty() && s.front() == '"') {
        s.remove_prefix(1);
        while (!s.empty() && s.front() != '"') {
            if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
            out.push_back(s.front());
            s.remove_prefix(1);
        }
        if (!s.empty()) s.remove_prefix(1);
    } else {
        auto end = s.find(';');
        out = std::string(trim(s.substr(0, end)));
        s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    }
    return out;
}

// Calls f(name, value) for each ";name=value" parameter after the first item of a header.
template <class F>
void for_each_param(std::string_view header, F f) {
    auto semi = header.find(';');
    if (semi == std::string_view::npos) return;
    std::string_view s = header.substr(semi);
    while (!s.empty()) {
        s.remove_prefix(1);  // ';'
        s = trim(s);
        auto eq = s.find('=');
        if (eq == std::string_view::npos) break;
        auto name = trim(s.substr(0, eq));
        s = trim(s.substr(eq + 1));
        std::string value = read_value(s);
        f(name, value);
        auto next = s.find(';');
        if (next == std::string_view::npos) break;
        s = s.substr(next);
    }
}

// RFC 5987 ext-value: charset'lang'percent-encoded
std::optional<std::string> decode_ext_value(std::string_view v) {
    auto q1 = v.find('\'');
    if (q1 == std::string_view::npos) return std::nullopt;
    auto q2 = v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) return std::nullopt;
    if (!boost::beast::iequals(v.substr(0, q1), "utf-8")) return std::nullopt;
    return percent_decode(v.substr(q2 + 1));  // nullopt for a malformed escape
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    auto semi = content_type.find(';');
    if (!boost::beast::iequals(trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
    std::optional<std::string> boundary;
    for_each_param(content_type, [&](std::string_view name, const std::string& value) {
        if (boost::beast::iequals(name, "boundary")) boundary = value;
    });
    // RFC 2046: 1..70 characters.
    if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
    return boundary;
}

MultipartParser::MultipartParser(std::string boundary, Handler handler, std::size_t max_part_header)
    : delimiter_("\r\n--" + boundary), handler_(std::move(handler)), max_part_header_(max_part_header) {
    // The first delimiter has no CRLF before it; pretend it had, so one search finds all.
    pending_ = "\r\n";
}

bool MultipartParser::fail(const char* why) {
    error_ = why;
    return false;
}

bool MultipartParser::parse_headers(std::string_view block) {
    PartInfo info;
    bool has_disposition = false;
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        auto line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return fail("malformed part header");
        auto name = trim(line.substr(0, colon));
        auto value = trim(line.substr(colon + 1));
        if (boost::beast::iequals(name, "Content-Disposition")) {
            if (!boost::beast::iequals(trim(value.substr(0, value.find(';'))), "form-data"))
                return fail("part is not form-data");
            has_disposition = true;
            std::optional<std::string> ext_filename;
            for_each_param(value, [&](std::string_view p, const std::string& v) {
                if (boost::beast::iequals(p, "name")) info.name = v;
                else if (boost::beast::iequals(p, "filename")) info.filename = v;
                else if (boost::beast::iequals(p, "filename*")) ext_filename = decode_ext_value(v);
            });
            if (ext_filename) info.filename = ext_filename;
        } else if (boost::beast::iequals(name, "Content-Type")) {
            info.content_type = std::string(value);
        }
    }
    if (!has_disposition || info.name.empty()) return fail("part without a form-data name");
    if (handler_.on_part) handler_.on_part(std::move(info));
    return true;
}

bool MultipartParser::feed(std::string_view bytes) {
    if (state_ == State::done) return true;  // the epilogue is ignored
    pending_.append(bytes);
    for (;;) {
        switch (state_) {
            case State::preamble: {
                auto pos = pending_.find(delimiter_);
                if (pos == std::string::npos) {
                    // Keep only what could be the start of a delimiter.
                    if (pending_.size() > delimiter_.size()) pending_.erase(0, pending_.size() - delimiter_.size());
                    return true;
                }
                pending_.erase(0, pos + delimiter_.size());
                state_ = State::after_delimiter;
                break;
            }
            case State::after_delimiter: {
                if (pending_.size() < 2) return true;
                if (pending_.compare(0, 2, "--") == 0) {
                    state_ = State::done;
                    pending_.clear();
                    return true;
                }
                // RFC 2046 allows whitespace before the CRLF that ends a delimiter line.
                auto eol = pending_.find("\r\n");
                if (eol == std::string::npos) {
                    if (pending_.size() > 256) return fail("malformed delimiter line");
                    return true;
                }
                if (!trim(std::string_view(pending_).substr(0, eol)).empty()) return fail("malformed delimiter line");
                pending_.erase(0, eol + 2);
                state_ = State::headers;
                break;
            }
            case State::headers: {
                auto end = pending_.find("\r\n\r\n");
                if (end == std::string::npos) {
                    if (pending_.size() > max_part_header_) return fail("part header too large");
                    return true;
                }
                if (end > max_part_header_) return fail("part header too large");
                if (!parse_headers(std::string_view(pending_).substr(0, end))) return false;
                pending_.erase(0, end + 4);
                state_ = State::body;
                break;
            }
            case State::body: {
                auto pos = pending_.find(delimiter_);
                if (pos == std::string::npos) {
                    // Everything but a possible delimiter prefix at the end is data.
                    if (pending_.size() > delimiter_.size()) {
                        std::size_t n = pending_.size() - delimiter_.size();
                        if (handler_.on_data) handler_.on_data(std::string_view(pending_).substr(0, n));
                        pending_.erase(0, n);
                    }
                    return true;
                }
                if (pos > 0 && handler_.on_data) handler_.on_data(std::string_view(pending_).substr(0, pos));
                if (handler_.on_part_end) handler_.on_part_end();
                pending_.erase(0, pos + delimiter_.size());
                state_ = State::after_delimiter;
                break;
            }
            case State::done:
                return true;
        }
    }
}

}  // namespace spur::detail
