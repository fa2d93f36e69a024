// Offloading CPU work: a slow computation runs on the blocking pool while the I/O thread keeps
// answering other requests.
// Run: ./offload [port]
//   curl localhost:3000/primes/2000000   (takes a moment)
//   curl localhost:3000/ping             (answers at once, even meanwhile)
#include <spur/spur.hpp>

#include <cstdlib>
#include <vector>

namespace {
// Deliberately CPU-heavy: never run something like this directly on an I/O thread.
long count_primes(long limit) {
    std::vector<bool> composite(static_cast<std::size_t>(limit + 1));
    long count = 0;
    for (long i = 2; i <= limit; ++i) {
        if (composite[static_cast<std::size_t>(i)]) continue;
        ++count;
        for (long j = i * i; j <= limit; j += i) composite[static_cast<std::size_t>(j)] = true;
    }
    return count;
}
}  // namespace

int main(int argc, char** argv) {
    spur::App app;

    app.get("/primes/:limit", [](spur::Request& req, spur::Response& res) -> spur::Task<> {
        long limit = std::atol(std::string(req.param("limit")).c_str());
        if (limit < 2 || limit > 50'000'000) throw spur::HttpError(400, "validation_error", "limit must be 2..50000000");
        // Capture by reference and keep the lambda simple: it runs on a pool thread.
        long primes = co_await spur::offload([&] { return count_primes(limit); });
        res.json({{"limit", limit}, {"primes", primes}});
    });
    app.get("/ping", [](spur::Request&, spur::Response& res) { res.send("pong\n"); });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    options.threads = 1;  // one I/O thread makes the point: /ping still answers during /primes
    app.listen(options);
}
