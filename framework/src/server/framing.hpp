#pragma once
// spur's own HTTP/1.1 framing rules, applied around Beast's parser: the raw header block is
// scanned before Beast sees it, and the parsed header is checked after. Beast 1.81 accepts
// several ambiguous framings that later Boost releases refuse (TE with CL, TE on HTTP/1.0,
// "chunked" not last, missing or repeated Host, obs-fold); the smuggling table in
// tests/server/malformed_framing_test.cpp and docs/reliability.md pin each case.

#include "util/net.hpp"

#include <spur/request.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <cstddef>
#include <string_view>

namespace spur::detail {

/// Why a message is refused: status plus the code/message of the JSON error body.
struct Rejection {
    int status = 0;
    const char* code = "";
    const char* message = "";
    explicit operator bool() const noexcept { return status != 0; }
};

/// Finds the end of a request's header block, resumably, rejecting what Beast 1.81 would
/// let through or only notice late: bare CR or LF (400), NUL (400), obs-fold (400),
/// a request line over max_request_line (414), header fields over max_header_bytes or more
/// than max_fields of them (431). Empty lines before the request line are skipped (RFC 9112 §2.2).
class HeaderScanner {
public:
    enum class State { need_more, complete, rejected };

    HeaderScanner(std::size_t max_request_line, std::size_t max_header_bytes, std::size_t max_fields = 100) noexcept
        : max_request_line_(max_request_line), max_header_bytes_(max_header_bytes), max_fields_(max_fields) {}

    /// Scans `data` — every byte buffered for this message so far, from its start; later
    /// calls must pass the same bytes plus more. Bytes already seen are not rescanned.
    State scan(std::string_view data) noexcept;

    /// Offset of the request line (after skipped empty lines).
    std::size_t begin() const noexcept { return begin_; }
    /// Offset just past the blank line that ends the header.
    std::size_t end() const noexcept { return end_; }
    /// The request line, once it is complete in `data` (the bytes passed to scan()); else "".
    std::string_view request_line(std::string_view data) const noexcept {
        return in_fields_ && fields_start_ >= begin_ + 2 ? data.substr(begin_, fields_start_ - 2 - begin_)
                                                         : std::string_view{};
    }
    /// Whether any byte of a request line has been seen (an idle peer has sent none).
    bool started() const noexcept { return pos_ > begin_; }
    const Rejection& rejection() const noexcept { return rejection_; }

private:
    State reject(int status, const char* code, const char* message) noexcept;

    std::size_t max_request_line_;
    std::size_t max_header_bytes_;
    std::size_t max_fields_;
    std::size_t fields_ = 0;
    std::size_t pos_ = 0;
    std::size_t begin_ = 0;
    std::size_t line_start_ = 0;
    std::size_t fields_start_ = 0;
    std::size_t end_ = 0;
    bool in_fields_ = false;
    Rejection rejection_;
};

/// Checks a header Beast has parsed against RFC 9112 §6–7 where Beast 1.81 is lax:
/// version other than 1.0/1.1 -> 505; Transfer-Encoding with Content-Length or on HTTP/1.0 -> 400;
/// Transfer-Encoding other than exactly "chunked" -> 501; Content-Length not plain digits -> 400;
/// missing (HTTP/1.1) or repeated Host, or a Host with forbidden characters -> 400;
/// a target that is not origin-, absolute- or (OPTIONS) asterisk-form -> 400; CONNECT -> 501.
Rejection check_framing(const http::request_header<>& header) noexcept;

/// What is known of a request refused before its header parsed: method and target when the
/// request line itself was sound, so the access log can still say what was asked.
Request::Message partial_header(std::string_view request_line);

}  // namespace spur::detail
