#include <spur/websocket.hpp>

#include <spur/handler.hpp>
#include <spur/http_error.hpp>
#include <spur/response.hpp>
#include <spur/detail/wire.hpp>

#include "server/websocket/session.hpp"
#include "http/origin.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

namespace spur {

Task<std::optional<WsMessage>> WebSocket::receive() { return session_->receive(); }
Task<bool> WebSocket::send(std::string_view text) { return session_->send(text, false); }
Task<bool> WebSocket::send_binary(std::string_view data) { return session_->send(data, true); }
void WebSocket::close(WsCloseCode code, std::string reason) { session_->close(code, std::move(reason)); }
bool WebSocket::is_open() const noexcept { return session_->is_open(); }
std::optional<std::uint16_t> WebSocket::peer_close_code() const noexcept { return session_->peer_close_code(); }

void WsPeer::post(std::string message, bool binary) const {
    post_shared(std::make_shared<const std::string>(std::move(message)), binary);
}

void WsPeer::post_shared(std::shared_ptr<const std::string> message, bool binary) const {
    if (auto s = session_.lock()) s->post(std::move(message), binary);
}

void WsPeer::close(WsCloseCode code, std::string reason) const {
    if (auto s = session_.lock()) s->post_close(code, std::move(reason));
}

bool WsPeer::alive() const { return !session_.expired(); }

bool WsPeer::operator==(const WsPeer& other) const noexcept {
    return !session_.owner_before(other.session_) && !other.session_.owner_before(session_);
}

namespace detail {

Handler websocket_endpoint(WsHandler handler) {
    if (!handler) throw std::invalid_argument("spur: a ws route needs a handler");
    auto shared = std::make_shared<const WsHandler>(std::move(handler));
    return [shared](Request& req, Response& res) {
        if (!boost::beast::websocket::is_upgrade(req.message())) {
            throw HttpError(426, "upgrade_required", "This endpoint speaks WebSocket only")
                .with_header("Upgrade", "websocket")
                .with_header("Connection", "Upgrade");
        }
        // A handshake has no body (RFC 6455 §4.1: a GET); one that declares a body would have
        // it read as WebSocket frames after the 101, so it is refused with a clear answer.
        if (!req.header("Content-Length").empty() || !req.header("Transfer-Encoding").empty()) {
            throw HttpError(400, "upgrade_with_body", "A WebSocket handshake carries no body");
        }
        check_websocket_origin(req);
        // The transport runs the handler once the 101 is final: the core's Response knows
        // nothing of WebSockets, and nothing the app does to the request can lose it.
        if (auto* wire = wire_of(req)) wire->upgrade(shared);
        res.status(101).end();
    };
}

}  // namespace detail

}  // namespace spur
