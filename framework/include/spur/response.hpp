#pragma once
// spur::Response — what a handler builds: status, headers, and a buffered or streamed body.

#include <spur/http/cookie.hpp>
#include <spur/task.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spur {

namespace detail {
class PresetFields;
struct ResponseAccess;
}  // namespace detail

/// A typed value as JSON (defined in <spur/contract/contract.hpp>).
template <class T>
boost::json::value to_json(const T& value);
/// A typed value as JSON text appended to `out` (defined in <spur/contract/contract.hpp>).
template <class T>
void write_json(std::string& out, const T& value);

/// Where a streamed body writes its chunks; implemented by the connection and the test client.
class BodyWriter {
public:
    virtual ~BodyWriter() = default;
    /// Sends one chunk; completes when the bytes are handed to the transport. Throws on a broken connection.
    virtual Task<> write(std::string_view chunk) = 0;
};

/// Produces a streamed body by calling BodyWriter::write as many times as it likes.
using BodyProducer = std::function<Task<>(BodyWriter&)>;

/// An HTTP response under construction. Every setter returns *this for chaining:
/// `res.status(201).set("Location", url).json(obj);`
class Response {
public:
    /// The Beast header type holding status and fields.
    using Header = boost::beast::http::response_header<>;

    Response();
    Response(const Response&) = default;
    Response(Response&&) = default;
    /// Assignment keeps what a reference taken from header() sees: after it, that reference
    /// holds every field of the assigned response, preset ones included.
    Response& operator=(const Response& other);
    Response& operator=(Response&& other);
    ~Response() = default;

    /// Sets the status code. Throws std::invalid_argument outside 100..599.
    Response& status(int code);
    /// The status code (200 until set).
    int status() const noexcept;

    /// Sets header `name` to `value`, replacing earlier values. Throws std::invalid_argument
    /// if the name is not an RFC 9110 token or the value holds CR, LF or NUL (no response splitting).
    Response& set(std::string_view name, std::string_view value);
    /// Adds another `name: value` line, keeping earlier ones; validated like set().
    Response& append(std::string_view name, std::string_view value);
    /// Removes header `name`.
    Response& unset(std::string_view name);
    /// The value of header `name`, or "" if absent.
    std::string_view get(std::string_view name) const;
    /// Adds `field` to the Vary header unless it is already listed (case-insensitive) or the
    /// header is "*"; vary("*") makes it "*".
    Response& vary(std::string_view field);
    /// Sets Content-Type; "json", "html", "text" and "bin" are shorthands.
    Response& type(std::string_view content_type);

    /// Sends `body`; Content-Type defaults to text/plain; charset=utf-8.
    Response& send(std::string body);
    Response& send(std::string_view body) { return send(std::string(body)); }
    Response& send(const char* body) { return send(std::string(body)); }
    /// Serialises `value` as the body with Content-Type application/json.
    Response& json(const boost::json::value& value);
    /// Serialises a described struct (or a vector, optional, … of them) as its schema says;
    /// include <spur/contract/contract.hpp>.
    template <class T>
        requires(!std::is_convertible_v<const T&, const boost::json::value&>)
    Response& json(const T& value) {
        // Written straight to text: no boost::json::value in between.
        std::string text;
        spur::write_json(text, value);
        return json_text(std::move(text));
    }
    /// Answers `status` (3xx) with a Location header. Throws std::invalid_argument on CR/LF/NUL in url.
    Response& redirect(std::string_view url, int status = 302);
    /// Ends the response with the current status and no body (e.g. `res.status(204).end()`).
    Response& end();

    /// Adds a Set-Cookie header. Throws std::invalid_argument for an invalid name.
    Response& cookie(std::string_view name, std::string_view value, const CookieOptions& options = {});
    /// Adds a Set-Cookie header that expires cookie `name` (path and domain must match the original).
    Response& clear_cookie(std::string_view name, const CookieOptions& options = {});

    /// Streams the body from `producer` after the headers are sent. With a known
    /// content_length the body is sent as-is (the producer must write exactly that many
    /// bytes); without one it is sent chunked (HTTP/1.1) or until close (HTTP/1.0).
    Response& stream(BodyProducer producer, std::optional<std::uint64_t> content_length = std::nullopt);

    /// Runs `hook` once the response has been written — or the client left before it was
    /// complete, and status() then reads 499 (nginx's "client closed request") — innermost
    /// registration first. For logs and metrics: the time, status and bytes_sent() are final.
    /// The header is the one the app set: Date, Server and Content-Length that the server
    /// wrote itself are not in it (bytes_sent() is the body's size). A throwing hook is logged
    /// and ignored.
    Response& on_finish(std::function<void(Response&)> hook);
    /// The registered finish hooks (run by the server and the test client after the write).
    std::vector<std::function<void(Response&)>>& finish_hooks() noexcept { return finish_hooks_; }
    /// Body bytes handed to the client (0 until the response is written).
    std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
    /// Records the body bytes written; the transport calls it before the finish hooks run.
    void bytes_sent(std::uint64_t bytes) noexcept { bytes_sent_ = bytes; }

    /// Whether send/json/redirect/end/stream has been called. (Features answer through these:
    /// spur::render, spur::sse and ws routes build on send() and stream().)
    bool ended() const noexcept { return ended_; }
    /// The buffered body (empty for streamed responses).
    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }
    /// The streamed-body producer, if any.
    const BodyProducer& producer() const noexcept { return producer_; }
    /// The declared length of a streamed body, if known.
    std::optional<std::uint64_t> stream_length() const noexcept { return stream_length_; }
    /// Status and header fields, for anything this class does not cover. Fields a middleware
    /// presets on every response (security_headers()) are written to the wire without
    /// entering the header; the first call here inserts them, so it may allocate (and throw
    /// std::bad_alloc), and a preset after it inserts its fields at once, so that a reference
    /// kept from here sees them. set, append, unset and get see them without that. Even the
    /// const overload may insert them: one Response is not to be read from two threads at once.
    Header& header() {
        exposed_ = true;
        if (preset_) materialize();
        return header_;
    }
    const Header& header() const {
        exposed_ = true;
        if (preset_) materialize();
        return header_;
    }

private:
    friend struct detail::ResponseAccess;
    // The body of json(typed), already JSON text: Content-Type application/json unless set.
    Response& json_text(std::string text);
    // Inserts the preset fields into the header (the header looks the same to every reader
    // before and after: hence const).
    void materialize() const;
    // The header for an operation on field `known` (or `name`): with the preset fields
    // inserted first if one of them is that field.
    Header& fields_for(boost::beast::http::field known, std::string_view name);

    mutable Header header_;
    // Shared with the middleware that set them, and kept by the response: it may outlive that
    // middleware (one made per request) or the app (App::handle).
    mutable std::shared_ptr<const detail::PresetFields> preset_;
    // Preset fields already inserted, kept as long as the response: a view get() returned
    // into them stays valid, as one into a field of the header does until that field changes.
    mutable std::shared_ptr<const void> kept_;
    mutable bool exposed_ = false;  // header() was called: a reference to header_ may be held
    std::string body_;
    BodyProducer producer_;
    std::optional<std::uint64_t> stream_length_;
    std::uint64_t bytes_sent_ = 0;
    std::vector<std::function<void(Response&)>> finish_hooks_;
    bool ended_ = false;
};

/// Whether `name` is a valid header field name (RFC 9110 token).
bool is_valid_header_name(std::string_view name) noexcept;
/// Whether `value` is safe as a header value (no CR, LF or NUL).
bool is_valid_header_value(std::string_view value) noexcept;

}  // namespace spur
