// ws_probe PORT TARGET: two WebSocket clients join TARGET; the first sends a line and both
// must receive it (a room broadcast; examples/chat.cpp's announcements tell when both joined). Exits 0 and prints "ws ok" on success.
#include "support/ws_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
bool read_until(spur::test::WsClient& c, const std::string& wanted) {
    for (int i = 0; i < 10; ++i) {
        auto m = c.read();
        if (!m) return false;
        if (*m == wanted) return true;
    }
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    spur::test::WsClient a(port, argv[2]);
    spur::test::WsClient b(port, argv[2]);
    // b's handshake completes before the server's handler has joined it to the room; the room
    // announcing two members to a says that it has, so the broadcast below reaches b.
    if (!read_until(a, "* someone joined, 2 here")) {
        std::puts("second client never joined");
        return 1;
    }
    a.send("hello from a");
    if (!read_until(a, "hello from a") || !read_until(b, "hello from a")) {
        std::puts("broadcast not received");
        return 1;
    }
    a.close();
    b.close();
    std::puts("ws ok");
}
