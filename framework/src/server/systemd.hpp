#pragma once
// The two systemd protocols a service speaks, written against their documented wire format
// (sd_listen_fds(3), sd_notify(3)) rather than linking libsystemd: both are a few lines, and
// every spur user would otherwise carry a link dependency for a feature most never turn on.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spur::detail {

/// A listening socket systemd passed to this process (socket activation).
struct InheritedSocket {
    int fd = -1;
    std::string name;   ///< FileDescriptorName= of the socket unit ("" when unnamed)
    int family = 0;     ///< AF_INET, AF_INET6 or AF_UNIX
};

/// The sockets passed through LISTEN_FDS when LISTEN_PID names this process, from fd 3 on;
/// empty otherwise. Clears the variables (children must not take them) and marks the
/// descriptors close-on-exec. Throws std::runtime_error for a passed descriptor that is not
/// a listening stream socket.
std::vector<InheritedSocket> take_inherited_sockets();

/// Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...") to $NOTIFY_SOCKET;
/// does nothing when the variable is unset. Failures are ignored: systemd's own client does
/// the same, since a service must not fail because its supervisor is not listening.
void notify(std::string_view state);

/// How often to send WATCHDOG=1 — half of WATCHDOG_USEC — when systemd asks for it
/// (WatchdogSec= in the unit, and WATCHDOG_PID naming this process); nullopt otherwise.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace spur::detail
