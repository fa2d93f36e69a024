#include "server/websocket/upgrade.hpp"

#include "server/finish.hpp"
#include "server/transport.hpp"
#include "server/websocket/session.hpp"

namespace spur::detail {

Task<> serve_websocket(ServerContext& server, ConnectionState& state, Transport& transport, Request& req,
                       Response& res, const WsHandler* handler) {
    std::shared_ptr<WsSession> session;
    if (handler) {
        transport.expires_never();  // the WebSocket layer runs its own handshake and idle timers
        session = co_await transport.accept_websocket(req.message(), res, server.options.websocket, server.app.log());
    }
    if (!session) res.status(499);
    run_finish_hooks(req, res, server.app.log());
    if (!session) co_return;
    state.websocket = session;
    if (server.stopping.load(std::memory_order_relaxed)) session->close(WsCloseCode::going_away, "server shutting down");
    struct Counted {  // counted while it runs, however it ends
        std::atomic<std::size_t>& n;
        explicit Counted(std::atomic<std::size_t>& c) : n(c) { n.fetch_add(1, std::memory_order_relaxed); }
        ~Counted() { n.fetch_sub(1, std::memory_order_relaxed); }
    } counted(server.websocket_sessions);
    co_await session->run(*handler, req);
    state.websocket.reset();
}

}  // namespace spur::detail
