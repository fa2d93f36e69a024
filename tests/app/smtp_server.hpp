#pragma once
// A real SMTP server for a test (tests/app/smtp_server.py: Debian's aiosmtpd) as a child
// process on a free loopback port: plain, offering STARTTLS, or TLS from the first byte, with a
// self-signed certificate made by `openssl req` for 127.0.0.1. The messages it accepts are
// read back as JSON (envelope, TLS, decoded headers and body, raw text).

#include "support/test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace app::test {

#ifndef SPUR_APP_MIGRATIONS_DIR
#error "spur_app_tests is built with SPUR_APP_MIGRATIONS_DIR (tests/CMakeLists.txt)"
#endif

enum class SmtpTls { none, starttls, implicit };

class SmtpServer {
public:
    explicit SmtpServer(SmtpTls tls = SmtpTls::none) : tls_(tls), port_(free_port()) {
        dir_ = std::filesystem::temp_directory_path() / ("spur-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
        std::filesystem::create_directories(dir_);
        if (tls != SmtpTls::none) make_certificate();
        start();
    }
    ~SmtpServer() {
        if (pid_ != 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    SmtpServer(const SmtpServer&) = delete;
    SmtpServer& operator=(const SmtpServer&) = delete;

    /// `smtp://127.0.0.1:PORT`, or `smtps://…` for implicit TLS.
    std::string url() const {
        return std::string(tls_ == SmtpTls::implicit ? "smtps" : "smtp") + "://127.0.0.1:" + std::to_string(port_);
    }
    /// The server's self-signed certificate, the CA file a client trusts it with.
    std::string certificate() const { return (dir_ / "cert.pem").string(); }
    std::string directory() const { return dir_.string(); }

    /// Every message accepted so far, oldest first.
    std::vector<boost::json::object> mails() const {
        std::ifstream in(dir_ / "mails.jsonl");
        std::vector<boost::json::object> out;
        for (std::string line; std::getline(in, line);)
            if (!line.empty() && in.good()) out.push_back(boost::json::parse(line).as_object());  // whole lines only
        return out;
    }
    /// The messages to `address` (a recipient of the envelope).
    std::vector<boost::json::object> mails_to(const std::string& address) const {
        std::vector<boost::json::object> out;
        for (auto& m : mails())
            for (const auto& to : m.at("rcpt_tos").as_array())
                if (to.as_string() == address) out.push_back(m);
        return out;
    }
    /// Waits until `count` messages to `address` have arrived (5 s at most) and returns them.
    std::vector<boost::json::object> wait_for(const std::string& address, std::size_t count = 1) const {
        const bool arrived = spur::test::eventually([&] { return mails_to(address).size() >= count; });
        INFO("mails to " << address << " after 5 s: " << mails_to(address).size());
        REQUIRE(arrived);
        return mails_to(address);
    }

private:
    static unsigned short free_port() {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }

    void make_certificate() {
        // EC P-256: made in milliseconds. The address is in subjectAltName: libcurl checks it.
        const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                                    "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
                                    (dir_ / "key.pem").string() + "' -out '" + certificate() + "' 2>/dev/null";
        REQUIRE(std::system(command.c_str()) == 0);
    }

    void start() {
        const std::string script = std::string(SPUR_APP_MIGRATIONS_DIR) + "/../../tests/app/smtp_server.py";
        const std::string log = (dir_ / "server.log").string();
        std::vector<std::string> args = {"/usr/bin/python3", script, std::to_string(port_), (dir_ / "mails.jsonl").string()};
        if (tls_ != SmtpTls::none) {
            args.push_back(tls_ == SmtpTls::starttls ? "--starttls" : "--implicit-tls");
            args.push_back(certificate());
            args.push_back((dir_ / "key.pem").string());
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
        const int rc = ::posix_spawn(&pid_, argv[0], &files, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&files);
        REQUIRE(rc == 0);
        // The script prints its line once aiosmtpd has answered its own first connection.
        const std::string ready = "listening on 127.0.0.1:" + std::to_string(port_);
        const bool up = spur::test::eventually([&] { return read(log).find(ready) != std::string::npos; },
                                               std::chrono::seconds(15));
        if (!up) FAIL("the SMTP server did not start: " << read(log));
    }

    static std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }

    SmtpTls tls_;
    unsigned short port_;
    std::filesystem::path dir_;
    pid_t pid_ = 0;
};

/// The token of the first link in `text` that has one (`…?token=T`).
inline std::string link_token(const std::string& text) {
    static const std::regex token("token=([A-Za-z0-9_-]+)");
    std::smatch m;
    if (!std::regex_search(text, m, token)) return {};
    return m[1].str();
}

}  // namespace app::test
