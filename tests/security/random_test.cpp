#include <spur/random.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

using namespace spur;

TEST_CASE("random_uuid is a lowercase version-4 UUID, unique across threads", "[security][random][concurrency]") {
    const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    constexpr int threads = 8, per_thread = 5000;
    std::vector<std::vector<std::string>> drawn(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&drawn, t] {
            for (int i = 0; i < per_thread; ++i) drawn[static_cast<std::size_t>(t)].push_back(random_uuid());
        });
    for (auto& w : workers) w.join();
    std::set<std::string> all;
    for (const auto& ids : drawn)
        for (const auto& id : ids) {
            REQUIRE(std::regex_match(id, v4));
            all.insert(id);
        }
    CHECK(all.size() == threads * per_thread);
}

TEST_CASE("a forked child does not draw the bytes its parent draws next", "[security][random]") {
    // The parent's per-thread block is filled; a child that reused it would draw exactly what
    // the parent draws next.
    (void)random_uuid();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const std::string id = random_uuid() + random_token(16);
        const bool sent = ::write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
        ::_exit(sent ? 0 : 1);
    }
    ::close(fds[1]);
    const std::string mine = random_uuid() + random_token(16);
    std::string theirs(mine.size(), '\0');
    std::size_t got = 0;
    for (ssize_t n; got < theirs.size() && (n = ::read(fds[0], theirs.data() + got, theirs.size() - got)) > 0;)
        got += static_cast<std::size_t>(n);
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(got == mine.size());
    CHECK(theirs.substr(0, 36) != mine.substr(0, 36));
    CHECK(theirs.substr(36) != mine.substr(36));
}
