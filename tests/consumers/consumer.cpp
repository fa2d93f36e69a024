// A program that links spur the way a user would, and checks a request end to end.
#include <spur/middleware/request_id.hpp>
#include <spur/spur.hpp>
#ifdef SPUR_CONSUMER_MYSQL
#include <spur/mysql.hpp>
#endif
#include <spur/testing/client.hpp>

#include <cstdio>

int main() {
    spur::App app;
    app.use(spur::middleware::request_id());
    app.get("/hello/:name", [](spur::Request& req, spur::Response& res) { res.json({{"hello", req.param("name")}}); });
    spur::testing::Client client(app);
    auto r = client.get("/hello/consumer");
    bool ok = r.status == 200 && r.body == R"({"hello":"consumer"})" && !r.header("X-Request-Id").empty();
#ifdef SPUR_CONSUMER_MYSQL
    ok = ok && spur::mysql::parse_url("mysql://u:p@localhost/db").user == "u";  // spur::mysql links too
#endif
    std::printf("%s %d %s\n", ok ? "consumer ok" : "consumer FAILED", r.status, r.body.c_str());
    return ok ? 0 : 1;
}
