// A static site with cookies: files from ./public, and a visit counter kept in a signed cookie
// (the client can read it but not change it).
// Run: ./static_site [port] [root]   (the build copies examples/public next to the program)
//   curl localhost:3000/                  -> public/index.html
//   curl -c jar -b jar localhost:3000/visits   (repeat: the count goes up)
#include <spur/middleware/security_headers.hpp>
#include <spur/middleware/static_files.hpp>
#include <spur/signed_cookie.hpp>
#include <spur/spur.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

int main(int argc, char** argv) try {
    spur::App app;
    app.use(spur::middleware::security_headers());

    // In production the secret comes from the environment; it must be at least 32 bytes.
    const char* secret = std::getenv("COOKIE_SECRET");
    spur::CookieSigner signer(secret ? secret : "example-only-secret-change-me-0123456789");

    app.get("/visits", [&signer](spur::Request& req, spur::Response& res) {
        int visits = std::atoi(signer.get(req, "visits").value_or("0").c_str()) + 1;
        spur::CookieOptions cookie;
        cookie.max_age = std::chrono::hours(24 * 30);
        signer.set(res, "visits", std::to_string(visits), cookie);
        res.json({{"visits", visits}});
    });
    app.get("/forget", [](spur::Request&, spur::Response& res) { res.clear_cookie("visits").redirect("/"); });

    // The wildcard route last in meaning, not in order: static routes above still win.
    spur::middleware::StaticOptions files;
    files.max_age = std::chrono::minutes(5);
    const auto beside_program = std::filesystem::canonical("/proc/self/exe").parent_path() / "public";
    app.get("/*path", spur::middleware::static_files(argc > 2 ? argv[2] : beside_program.string(), files));

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
} catch (const std::exception& e) {  // a setup error (root, port) ends with one line, not std::terminate
    std::fprintf(stderr, "static_site: %s\n", e.what());
    return 1;
}
