// The `migrate` command an application wires into its main() (spur::mysql::migrate_cli).
#include <spur/mysql/migrator.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <string_view>

namespace spur::mysql {

namespace {

// Runs `task` on a private io_context until it ends — there is no server yet — and rethrows
// its exception.
template <class T>
T run_migrator_task(Task<T> task) {
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

std::string_view state_name(MigrationState s) {
    switch (s) {
        case MigrationState::pending: return "pending";
        case MigrationState::applied: return "applied";
        case MigrationState::changed: return "changed";
        case MigrationState::missing: return "missing";
    }
    return "?";
}

void warn_missing(const std::string& program, const std::vector<MigrationStatus>& all) {
    for (const auto& s : all)
        if (s.state == MigrationState::missing)
            fmt::print(stderr, "{}: warning: migration {} ({}) is applied but is not one of this program's migrations\n",
                       program, s.version, s.name);
}

int cli_up(Migrator& migrator, const std::string& program) {
    const auto applied = run_migrator_task(migrator.apply());
    warn_missing(program, run_migrator_task(migrator.status()));
    std::vector<int> versions;
    for (const auto& m : applied) versions.push_back(m.version);
    fmt::print(stderr, "{}: {} migration(s) applied {}\n", program, versions.size(), versions);
    return 0;
}

int cli_status(Migrator& migrator) {
    const auto all = run_migrator_task(migrator.status());
    std::size_t count[4] = {};
    fmt::print("{:>7}  {:<40}  {:<7}  {}\n", "version", "name", "state", "applied_at");
    for (const auto& s : all) {
        ++count[static_cast<int>(s.state)];
        fmt::print("{:>7}  {:<40}  {:<7}  {}\n", s.version, s.name, state_name(s.state),
                   s.applied_at ? s.applied_at->to_iso8601() : "-");
    }
    fmt::print("{} applied, {} pending", count[static_cast<int>(MigrationState::applied)],
               count[static_cast<int>(MigrationState::pending)]);
    if (auto n = count[static_cast<int>(MigrationState::changed)]) fmt::print(", {} changed since applied", n);
    if (auto n = count[static_cast<int>(MigrationState::missing)]) fmt::print(", {} applied but missing here", n);
    fmt::print("\n");
    return count[static_cast<int>(MigrationState::changed)] ? 1 : 0;
}

std::optional<int> run_cli(int argc, char** argv, const std::function<std::unique_ptr<Migrator>()>& make) {
    // Only as the first argument: a flag's value elsewhere (`--host migrate`) is not a command.
    const int at = 1;
    if (argc < 2 || std::string_view(argv[at]) != "migrate") return std::nullopt;
    // The word after `migrate`; a flag there belongs to the application (`migrate --port 1`).
    std::string_view command = at + 1 < argc ? std::string_view(argv[at + 1]) : std::string_view("up");
    if (command.starts_with("-")) command = "up";
    const std::string program = argc > 0 && argv[0] ? std::filesystem::path(argv[0]).filename().string() : "migrate";
    if (command != "up" && command != "status") {
        fmt::print(stderr, "{}: unknown command `migrate {}` (migrate, migrate up, migrate status)\n", program, command);
        return 2;
    }
    try {
        auto migrator = make();
        if (command == "status") return cli_status(*migrator);
        return cli_up(*migrator, program);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", program, e.what());
        return 1;
    }
}

}  // namespace

std::optional<int> migrate_cli(int argc, char** argv, const Config& config, std::vector<Migration> migrations,
                               MigratorOptions options) {
    return run_cli(argc, argv, [&] { return std::make_unique<Migrator>(config, std::move(migrations), options); });
}

std::optional<int> migrate_cli(int argc, char** argv, const Config& config, const std::filesystem::path& directory,
                               MigratorOptions options) {
    return run_cli(argc, argv, [&] { return std::make_unique<Migrator>(config, directory, options); });
}

}  // namespace spur::mysql
