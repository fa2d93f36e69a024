#include "server/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace spur::detail {

namespace {
constexpr int first_inherited_fd = 3;  // SD_LISTEN_FDS_START

std::optional<long long> env_number(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    long long n = 0;
    auto [end, ec] = std::from_chars(value, value + std::strlen(value), n);
    if (ec != std::errc() || *end != '\0') return std::nullopt;
    return n;
}

// Names are ':'-separated, one per descriptor (LISTEN_FDNAMES).
std::vector<std::string> fd_names(std::size_t count) {
    std::vector<std::string> names(count);
    const char* value = std::getenv("LISTEN_FDNAMES");
    if (!value) return names;
    std::string_view rest(value);
    for (std::size_t i = 0; i < count && !rest.empty(); ++i) {
        auto colon = rest.find(':');
        names[i] = std::string(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
    return names;
}
}  // namespace

std::vector<InheritedSocket> take_inherited_sockets() {
    auto pid = env_number("LISTEN_PID");
    auto count = env_number("LISTEN_FDS");
    std::vector<InheritedSocket> sockets;
    if (pid && count && *pid == static_cast<long long>(getpid()) && *count > 0) {
        auto names = fd_names(static_cast<std::size_t>(*count));
        for (int i = 0; i < *count; ++i) {
            const int fd = first_inherited_fd + i;
            int type = 0, listening = 0;
            socklen_t len = sizeof type;
            sockaddr_storage address{};
            socklen_t address_len = sizeof address;
            if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
                getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &(len = sizeof listening)) != 0 || !listening ||
                getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0)
                throw std::runtime_error("systemd passed descriptor " + std::to_string(fd) +
                                         " that is not a listening stream socket (Accept=yes is not supported)");
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            sockets.push_back({fd, names[static_cast<std::size_t>(i)], address.ss_family});
        }
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return sockets;
}

void notify(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(path);
    if (length >= sizeof address.sun_path) return;
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket name
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const auto address_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    (void)sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), address_len);
    close(fd);
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    auto usec = env_number("WATCHDOG_USEC");
    if (!usec || *usec <= 0) return std::nullopt;
    if (auto pid = env_number("WATCHDOG_PID"); pid && *pid != static_cast<long long>(getpid())) return std::nullopt;
    return std::chrono::microseconds(*usec / 2);
}

}  // namespace spur::detail
