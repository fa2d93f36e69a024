#pragma once
// The real AI service (services/ai/serve.sh: FastAPI on uvicorn) as a child process of a test,
// on a port of its own, its log in a file the test reads; stopped and started again at will.

#include "support/test_server.hpp"

#include <spur/http_client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace app::test {

#ifndef SPUR_AI_SERVICE_DIR
#error "spur_app_tests is built with SPUR_AI_SERVICE_DIR (tests/CMakeLists.txt)"
#endif

class AiService {
public:
    AiService() : port_(free_port()) {
        log_ = (std::filesystem::temp_directory_path() / ("spur-ai-" + std::to_string(::getpid()) + "-" +
                                                          std::to_string(port_) + ".log")).string();
        start();
    }
    ~AiService() {
        stop();
        std::filesystem::remove(log_);
    }
    AiService(const AiService&) = delete;
    AiService& operator=(const AiService&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    unsigned short port() const { return port_; }

    /// Starts serve.sh on this service's port and waits until uvicorn says it listens.
    void start() {
        REQUIRE(pid_ == 0);
        const auto logged_before = log().size();  // a restart appends to the same log
        const std::string script = std::string(SPUR_AI_SERVICE_DIR) + "/serve.sh";
        const std::string port = std::to_string(port_);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&files, STDERR_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        char* argv[] = {const_cast<char*>(script.c_str()), const_cast<char*>(port.c_str()), nullptr};
        const int rc = ::posix_spawn(&pid_, script.c_str(), &files, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&files);
        REQUIRE(rc == 0);
        // A child process: nothing to wait on but its log line (uvicorn prints it once bound).
        const std::string ready = "Uvicorn running on http://127.0.0.1:" + port;
        const bool up = spur::test::eventually([&] { return log().find(ready, logged_before) != std::string::npos; },
                                               std::chrono::seconds(30));
        if (!up) FAIL("the AI service did not start: " << log());
    }

    /// Kills the service at once (as a crash would) and reaps it.
    void stop() {
        if (pid_ == 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

    /// Everything the service logged so far (one JSON line per request, uvicorn's own lines).
    std::string log() const {
        std::ifstream in(log_);
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }

    /// GET /v1/stats: summaries started, completed, cancelled.
    boost::json::value stats() const {
        boost::asio::io_context io;
        spur::HttpClient client;
        boost::json::value out;
        boost::asio::co_spawn(io, [&]() -> spur::Task<> { out = (co_await client.get(url() + "/v1/stats")).json(); },
                              [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        io.run();
        return out;
    }
    std::int64_t stat(const char* name) const { return stats().at(name).as_int64(); }

private:
    static unsigned short free_port() {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }

    unsigned short port_;
    std::string log_;
    pid_t pid_ = 0;
};

}  // namespace app::test
