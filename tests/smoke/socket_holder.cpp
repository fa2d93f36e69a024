// What a systemd socket unit does for a service, in a few lines, for the restart test:
// holds a listening TCP socket and runs the command with it as fd 3 (LISTEN_FDS=1,
// LISTEN_PID, LISTEN_FDNAMES=http). SIGHUP restarts the command as `systemctl restart` does —
// SIGTERM, wait for the exit, start again — while connections keep queueing in the kernel.
// SIGTERM stops the command and exits. Prints "listening on http://127.0.0.1:PORT" first.
// (systemd-socket-activate, which the other tests use, execs the command and cannot restart it.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
volatile sig_atomic_t restart_requested = 0, stop_requested = 0;

pid_t launch(int listener, char** argv) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    dup2(listener, 3);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    setenv("LISTEN_FDNAMES", "http", 1);
    execv(argv[0], argv);
    std::perror("execv");
    _exit(127);
}

void stop(pid_t child) {
    kill(child, SIGTERM);
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::fprintf(stderr, "socket_holder: child exited badly (%d)\n", status);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: socket_holder COMMAND [ARGS...]\n");
        return 2;
    }
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, 1024) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("socket_holder");
        return 1;
    }
    std::printf("listening on http://127.0.0.1:%u\n", ntohs(address.sin_port));
    std::fflush(stdout);
    struct sigaction on_hup {}, on_term {};
    on_hup.sa_handler = [](int) { restart_requested = 1; };
    on_term.sa_handler = [](int) { stop_requested = 1; };
    sigaction(SIGHUP, &on_hup, nullptr);
    sigaction(SIGTERM, &on_term, nullptr);
    sigaction(SIGINT, &on_term, nullptr);
    pid_t child = launch(listener, argv + 1);
    while (!stop_requested) {
        pause();
        if (restart_requested) {
            restart_requested = 0;
            stop(child);
            child = launch(listener, argv + 1);
            std::fprintf(stderr, "socket_holder: restarted (pid %d)\n", child);
        }
    }
    stop(child);
    return 0;
}
