#include "jobs/command.hpp"

#include <spur/mysql/jobs.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/core.h>

#include <charconv>
#include <cstdio>

namespace app::jobs {

namespace {

template <class T>
T run(spur::Task<T> task) {
    boost::asio::io_context io;
    std::exception_ptr failure;
    std::optional<T> result;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e) result.emplace(std::move(value));
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
}

std::optional<std::uint64_t> number(const std::string& s) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
}

std::optional<spur::mysql::JobState> state_named(const std::string& s) {
    for (auto st : {spur::mysql::JobState::queued, spur::mysql::JobState::running, spur::mysql::JobState::done,
                    spur::mysql::JobState::dead})
        if (spur::mysql::to_string(st) == s) return st;
    return std::nullopt;
}

int usage() {
    std::fprintf(stderr, "usage: spur-app jobs list [queued|running|done|dead] | jobs retry ID | jobs purge [DAYS]\n");
    return 2;
}

int list(spur::mysql::Jobs& queue, std::optional<spur::mysql::JobState> state) {
    const auto jobs = run(queue.list(state, 100));
    fmt::print("{:>8}  {:<24} {:<8} {:>8}  {:<23}  {}\n", "ID", "KIND", "STATE", "ATTEMPTS", "DUE (UTC)", "LAST ERROR");
    for (const auto& j : jobs)
        fmt::print("{:>8}  {:<24} {:<8} {:>4}/{:<3}  {:<23}  {}\n", j.id, j.kind, spur::mysql::to_string(j.state), j.attempts,
                   j.max_attempts, j.run_at.to_string().substr(0, 23), j.last_error);
    const auto c = run(queue.counts());
    fmt::print("{} queued, {} running, {} done, {} dead; the oldest due job has waited {:.1f} s\n", c.queued, c.running, c.done,
               c.dead, c.oldest_due_seconds);
    return 0;
}

}  // namespace

int command(const spur::mysql::Config& db, const std::vector<std::string>& args) {
    if (args.empty()) return usage();
    spur::mysql::Pool pool(db);
    spur::mysql::Jobs queue(pool);
    try {
        if (args[0] == "list" && args.size() <= 2) {
            std::optional<spur::mysql::JobState> state;
            if (args.size() == 2 && !(state = state_named(args[1]))) return usage();
            return list(queue, state);
        }
        if (args[0] == "retry" && args.size() == 2) {
            const auto id = number(args[1]);
            if (!id) return usage();
            if (!run(queue.retry(*id))) {
                std::fprintf(stderr, "spur-app: no dead or queued job %s\n", args[1].c_str());
                return 1;
            }
            fmt::print("job {} is due again\n", *id);
            return 0;
        }
        if (args[0] == "purge" && args.size() <= 2) {
            const auto days = args.size() == 2 ? number(args[1]) : std::optional<std::uint64_t>(7);
            if (!days || *days > 36500) return usage();
            const auto gone = run(queue.purge(std::chrono::hours(24 * *days), true));
            fmt::print("{} finished job(s) deleted\n", gone);
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spur-app: %s\n", e.what());
        return 1;
    }
    return usage();
}

}  // namespace app::jobs
