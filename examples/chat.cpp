// WebSocket chat: the room is part of the URL; every message goes to everyone in the room.
// Run: ./chat [port]   then open http://localhost:3000/ in two browser tabs.
#include <spur/spur.hpp>
#include <spur/websocket_room.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

// Rooms are created on first use and shared by every I/O thread.
class Rooms {
public:
    spur::WsRoom& get(std::string_view name) {
        std::lock_guard lock(mutex_);
        auto& room = rooms_[std::string(name)];
        if (!room) room = std::make_unique<spur::WsRoom>();
        return *room;
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<spur::WsRoom>> rooms_;
};

constexpr const char* page = R"html(<!doctype html><meta charset="utf-8"><title>spur chat</title>
<input id="room" value="lobby"> <button onclick="join()">join</button>
<pre id="log"></pre><input id="text" placeholder="say something" onkeydown="if(event.key==='Enter')say()">
<script>
let ws;
function join() {
  ws = new WebSocket(`ws://${location.host}/chat/${encodeURIComponent(room.value)}`);
  ws.onmessage = (e) => { log.textContent += e.data + '\n'; };
}
function say() { ws.send(text.value); text.value = ''; }
join();
</script>)html";

int main(int argc, char** argv) {
    spur::App app;
    Rooms rooms;

    app.get("/", [](spur::Request&, spur::Response& res) { res.type("html").send(page); });

    // Route params and any middleware (auth, rate limits) apply before the upgrade.
    app.ws("/chat/:room", [&rooms](spur::WebSocket& ws) -> spur::Task<> {
        auto& room = rooms.get(ws.param("room"));
        room.join(ws.peer());
        room.broadcast("* someone joined, " + std::to_string(room.size()) + " here");
        while (auto message = co_await ws.receive()) {
            if (!message->binary) room.broadcast(message->data);
        }
        room.leave(ws.peer());
        room.broadcast("* someone left");
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    options.websocket.max_message_bytes = 4096;  // chat lines, not files
    app.listen(options);  // Ctrl-C closes every chat with 1001 and exits
}
