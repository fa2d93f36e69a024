#pragma once
// spur::testing::Client — drives an App in-process, like Flask's test_client or supertest.

#include <spur/app.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio { class io_context; }

namespace spur::testing {

/// Extra request headers: {{"Authorization", "Bearer x"}}.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A response as the client received it, after the same finishing steps the server applies
/// (Content-Length, Date, Server, HEAD without body).
struct Result {
    int status = 0;
    boost::beast::http::fields headers;
    std::string body;

    /// The value of header `name`, or "".
    std::string_view header(std::string_view name) const;
    /// The body parsed as JSON; throws std::runtime_error if it is not JSON.
    boost::json::value json() const;
};

/// A server-sent event as a client parsed it.
struct ReceivedEvent {
    std::string event;  ///< "" when the stream named none ("message")
    std::string id;
    std::string data;   ///< data lines joined with "\n"
    std::optional<long> retry;
};

/// A response read as it is produced — an event stream, or any streamed body — chunk by
/// chunk, from Client::open(). Destroying it (or close()) before the end is the client
/// leaving: the producer is cancelled.
class Stream {
public:
    ~Stream();
    Stream(Stream&&) noexcept;
    Stream& operator=(Stream&&) = delete;

    int status() const noexcept;
    /// The value of header `name`, or "".
    std::string_view header(std::string_view name) const;
    /// Runs the app until the next chunk of body arrives and returns it; "" once the body has
    /// ended. Rethrows what the producer threw.
    std::string next_chunk();
    /// The next event (comments skipped), or nullopt once the stream has ended.
    std::optional<ReceivedEvent> next_event();
    /// Whether the body has ended.
    bool ended() const noexcept;
    /// Leaves: cancels the producer and runs it until it has stopped.
    void close();

    struct State;
    explicit Stream(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

/// Sends requests straight into App::handle — the full middleware and routing
/// pipeline without sockets. Streamed bodies are collected. Not thread-safe.
class Client {
public:
    explicit Client(App& app);
    ~Client();

    /// Sends any request. Content-Length is set from the body; Host defaults to "localhost".
    Result request(std::string_view method, std::string_view target, std::string body = {}, const Headers& headers = {});
    Result get(std::string_view target, const Headers& headers = {}) { return request("GET", target, {}, headers); }
    Result head(std::string_view target, const Headers& headers = {}) { return request("HEAD", target, {}, headers); }
    Result del(std::string_view target, const Headers& headers = {}) { return request("DELETE", target, {}, headers); }
    Result options(std::string_view target, const Headers& headers = {}) { return request("OPTIONS", target, {}, headers); }
    Result post(std::string_view target, std::string body, const Headers& headers = {}) { return request("POST", target, std::move(body), headers); }
    Result put(std::string_view target, std::string body, const Headers& headers = {}) { return request("PUT", target, std::move(body), headers); }
    Result patch(std::string_view target, std::string body, const Headers& headers = {}) { return request("PATCH", target, std::move(body), headers); }
    /// Sends `value` serialised, with Content-Type application/json.
    Result post_json(std::string_view target, const boost::json::value& value, Headers headers = {});
    Result put_json(std::string_view target, const boost::json::value& value, Headers headers = {});
    Result patch_json(std::string_view target, const boost::json::value& value, Headers headers = {});

    /// Sends a request and returns once the head of the response is ready, leaving a
    /// streamed body to be read incrementally from the Stream (a buffered body is one chunk).
    Stream open(std::string_view method, std::string_view target, const Headers& headers = {});

    /// The peer address requests appear to come from (default "127.0.0.1").
    void remote_address(std::string address) { remote_address_ = std::move(address); }

private:
    Result send_json(std::string_view method, std::string_view target, const boost::json::value& value, Headers headers);
    App& app_;
    std::unique_ptr<boost::asio::io_context> io_;
    std::string remote_address_ = "127.0.0.1";
};

}  // namespace spur::testing
