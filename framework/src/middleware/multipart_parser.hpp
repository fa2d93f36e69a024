#pragma once
// An incremental multipart/form-data parser (RFC 7578): fed any split of the body, it
// reports part headers, part data and part ends. No I/O, no allocation beyond one part's
// header and a delimiter-sized tail.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace spur::detail {

/// The headers of one part that matter for forms.
struct PartInfo {
    std::string name;
    std::optional<std::string> filename;  ///< present for file parts
    std::string content_type = "text/plain";
};

/// The boundary parameter of a multipart/form-data Content-Type, or nullopt.
std::optional<std::string> multipart_boundary(std::string_view content_type);

class MultipartParser {
public:
    /// Callbacks may throw to abort (e.g. HttpError for a limit).
    struct Handler {
        std::function<void(PartInfo&&)> on_part;
        std::function<void(std::string_view)> on_data;
        std::function<void()> on_part_end;
    };

    MultipartParser(std::string boundary, Handler handler, std::size_t max_part_header = 8 * 1024);

    /// Feeds the next bytes. Returns false on malformed input (then stop feeding).
    bool feed(std::string_view bytes);
    /// Whether the closing delimiter has been seen.
    bool done() const noexcept { return state_ == State::done; }
    /// Why feed() returned false.
    const char* error() const noexcept { return error_; }

private:
    enum class State { preamble, after_delimiter, headers, body, done };
    bool fail(const char* why);
    bool parse_headers(std::string_view block);

    std::string delimiter_;  // "\r\n--" + boundary
    Handler handler_;
    std::size_t max_part_header_;
    std::string pending_;
    State state_ = State::preamble;
    const char* error_ = "";
};

}  // namespace spur::detail
