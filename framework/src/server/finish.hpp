#pragma once
// The last steps of a response before and after its write, shared by the server and the test
// client (no sockets here): framing headers, and the finish hooks that run after the write.

#include <spur/log.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace spur::detail {

/// How the writer must send the body after finish_response.
struct BodyFraming {
    bool send_body = true;  ///< false for HEAD, 1xx, 204 and 304
    bool stream = false;    ///< run the response's producer
    bool chunked = false;   ///< stream with chunked encoding
    bool keep_alive = true; ///< the final decision, also written as the Connection header

    /// Date, Server and Content-Length the app did not set: the server writes them itself
    /// after the response's own fields (append_head) instead of inserting them into
    /// res.header(), an allocation and a tree insert each, a sixth of a small request's
    /// instructions. Finish hooks see the header without them.
    struct WireFields {
        std::array<char, 29> date{};  ///< IMF-fixdate, when date_set
        bool date_set = false;
        bool server = false;
        std::array<char, 20> length{};  ///< Content-Length digits, length_size of them
        std::uint8_t length_size = 0;
    } wire;
};

/// Sets version, Date, Server, Connection and Content-Length/Transfer-Encoding on `res`
/// (some of them in the returned framing's `wire` instead, see WireFields) and drops the
/// body where HTTP forbids one. `version` is the request's (10 or 11).
BodyFraming finish_response(Response& res, unsigned version, bool head_request, bool keep_alive);

/// Moves `framing.wire`'s fields into `fields`, for a caller that shows the header as it went
/// out (the test client).
void add_wire_fields(boost::beast::http::fields& fields, BodyFraming& framing);

/// Runs the response's finish hooks once it is written, innermost first; a hook that throws
/// is logged through `log` and the others still run.
void run_finish_hooks(const Request& req, Response& res, const LogSink& log) noexcept;

}  // namespace spur::detail
