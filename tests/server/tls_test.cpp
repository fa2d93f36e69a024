#include <spur/tls.hpp>

#include <spur/server.hpp>

#include "support/test_server.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using spur::App;
using spur::Request;
using spur::Response;
using spur::test::TestServer;

namespace {

// The throwaway certificate made by the tls_cert CTest fixture (openssl req -x509).
std::string cert_dir() {
    const char* dir = std::getenv("SPUR_TEST_TLS_DIR");
    if (!dir) FAIL("SPUR_TEST_TLS_DIR is not set (run through ctest)");
    return dir;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

spur::ServerOptions tls_options(bool in_memory = false) {
    auto o = spur::test::test_options();
    spur::TlsOptions tls;
    tls.port = 0;
    tls.handshake_timeout = std::chrono::milliseconds(1000);
    if (in_memory) {
        tls.certificate.cert_chain_pem = slurp(cert_dir() + "/cert.pem");
        tls.certificate.private_key_pem = slurp(cert_dir() + "/key.pem");
    } else {
        tls.certificate.cert_chain_file = cert_dir() + "/cert.pem";
        tls.certificate.private_key_file = cert_dir() + "/key.pem";
    }
    o.tls = tls;
    return o;
}

App hello_app() {
    App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    app.get("/hello", [](Request& req, Response& res) { res.send("hello over " + std::string(req.header("Host"))); });
    return app;
}

// A client that trusts only the test certificate and checks the host name, as a browser would.
ssl::context client_context(int min_version = TLS1_2_VERSION, int max_version = 0) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(cert_dir() + "/cert.pem");
    ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client even offer TLS 1.0
    SSL_CTX_set_cipher_list(ctx.native_handle(), "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    return ctx;
}

struct TlsClient {
    net::io_context io;
    ssl::context ctx;
    beast::ssl_stream<beast::tcp_stream> stream;

    // `alpn` in the wire format (length-prefixed names); this client speaks HTTP/1.1 only, so
    // it offers h2 only where a test looks at the negotiation itself.
    TlsClient(unsigned short port, ssl::context context, std::string_view alpn = "\x08http/1.1")
        : ctx(std::move(context)), stream(io, ctx) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        beast::get_lowest_layer(stream).connect({net::ip::make_address("127.0.0.1"), port});
        SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
        stream.set_verify_callback(ssl::host_name_verification("localhost"));
        SSL_set_alpn_protos(stream.native_handle(), reinterpret_cast<const unsigned char*>(alpn.data()),
                            static_cast<unsigned>(alpn.size()));
    }

    boost::system::error_code handshake() {
        boost::system::error_code ec;
        stream.handshake(ssl::stream_base::client, ec);
        return ec;
    }

    std::string alpn() {
        const unsigned char* p = nullptr;
        unsigned n = 0;
        SSL_get0_alpn_selected(stream.native_handle(), &p, &n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }

    http::response<http::string_body> get(const std::string& target) {
        http::request<http::string_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "localhost");
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        return res;
    }
};

}  // namespace

TEST_CASE("https: real handshake with TLS 1.2+, ALPN http/1.1, keep-alive requests", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options());
    REQUIRE(srv.server().tls_port() != 0);
    TlsClient c(srv.server().tls_port(), client_context());
    REQUIRE_FALSE(c.handshake());
    CHECK(SSL_version(c.stream.native_handle()) >= TLS1_2_VERSION);
    CHECK(c.alpn() == "http/1.1");
    for (int i = 0; i < 3; ++i) {
        auto res = c.get("/hello");
        CHECK(res.result_int() == 200);
        CHECK(res.body() == "hello over localhost");
    }
    boost::system::error_code ec;
    c.stream.shutdown(ec);
}

TEST_CASE("ALPN: a client offering h2 and http/1.1 gets h2, unless http2.tls is off", "[server][tls][http2]") {
    constexpr std::string_view both = "\x02h2\x08http/1.1";
    App app = hello_app();
    {
        TestServer srv(app, tls_options());
        TlsClient c(srv.server().tls_port(), client_context(), both);
        REQUIRE_FALSE(c.handshake());
#if SPUR_TEST_HTTP2
        CHECK(c.alpn() == "h2");
#else
        CHECK(c.alpn() == "http/1.1");
#endif
    }
    App other = hello_app();
    auto options = tls_options();
    options.http2.tls = false;
    TestServer srv(other, options);
    TlsClient c(srv.server().tls_port(), client_context(), both);
    REQUIRE_FALSE(c.handshake());
    CHECK(c.alpn() == "http/1.1");
    CHECK(c.get("/hello").result_int() == 200);
}

TEST_CASE("https and plain http serve the same app at once", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options());
    auto plain = spur::test::round_trip(srv.port(), "GET /hello HTTP/1.1\r\nHost: plain\r\n\r\n");
    REQUIRE(plain);
    CHECK(plain->body() == "hello over plain");
    TlsClient c(srv.server().tls_port(), client_context());
    REQUIRE_FALSE(c.handshake());
    CHECK(c.get("/hello").body() == "hello over localhost");
}

TEST_CASE("https certificate and key given as PEM text", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options(true));
    TlsClient c(srv.server().tls_port(), client_context());
    REQUIRE_FALSE(c.handshake());
    CHECK(c.get("/hello").result_int() == 200);
}

TEST_CASE("https refuses TLS 1.0 and 1.1 clients", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options());
    for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
        TlsClient c(srv.server().tls_port(), client_context(version, version));
        auto ec = c.handshake();
        REQUIRE(ec);
        CHECK_THAT(ec.message(), Catch::Contains("protocol version"));  // the server's alert
    }
    // The same permissive client succeeds once it may use TLS 1.2: the refusal is the server's.
    TlsClient ok(srv.server().tls_port(), client_context(TLS1_VERSION, TLS1_2_VERSION));
    CHECK_FALSE(ok.handshake());
}

TEST_CASE("plain http sent to the TLS port is dropped, and the server keeps serving", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options());
    spur::test::RawConnection raw(srv.server().tls_port());
    raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(raw.wait_closed());
    TlsClient c(srv.server().tls_port(), client_context());
    REQUIRE_FALSE(c.handshake());
    CHECK(c.get("/hello").result_int() == 200);
}

TEST_CASE("a client that never starts the handshake is dropped after the handshake timeout", "[server][tls]") {
    App app = hello_app();
    TestServer srv(app, tls_options());
    spur::test::RawConnection raw(srv.server().tls_port());
    auto start = std::chrono::steady_clock::now();
    CHECK(raw.wait_closed());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(3000));
}

TEST_CASE("unusable TLS settings fail at start with a clear error", "[server][tls]") {
    App app = hello_app();
    auto o = tls_options();
    o.tls->certificate.private_key_file = cert_dir() + "/missing.pem";
    spur::Server server(app, o);
    CHECK_THROWS_WITH(server.start(), Catch::Contains("private key"));
}

TEST_CASE("https applies the same limits as plain http", "[server][tls]") {
    App app = hello_app();
    auto o = tls_options();
    o.max_header_bytes = 1024;
    TestServer srv(app, o);
    TlsClient c(srv.server().tls_port(), client_context());
    REQUIRE_FALSE(c.handshake());
    http::request<http::string_body> req{http::verb::get, "/hello", 11};
    req.set(http::field::host, "localhost");
    req.set("X-Big", std::string(2048, 'a'));
    http::write(c.stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(c.stream, buffer, res);
    CHECK(res.result_int() == 431);
    CHECK(res[http::field::connection] == "close");
}

TEST_CASE("https picks the certificate by SNI name", "[server][tls]") {
    App app = hello_app();
    auto o = tls_options();
    spur::TlsCertificate other;
    other.cert_chain_file = cert_dir() + "/other-cert.pem";
    other.private_key_file = cert_dir() + "/other-key.pem";
    o.tls->sni = {{"*.other.test", other}};
    TestServer srv(app, o);
    auto subject_for = [&](const char* name) {
        net::io_context io;
        ssl::context ctx(ssl::context::tls_client);
        ctx.set_verify_mode(ssl::verify_none);  // only the choice of certificate is under test
        beast::ssl_stream<beast::tcp_stream> s(io, ctx);
        beast::get_lowest_layer(s).connect({net::ip::make_address("127.0.0.1"), srv.server().tls_port()});
        SSL_set_tlsext_host_name(s.native_handle(), name);
        s.handshake(ssl::stream_base::client);
        X509* cert = SSL_get1_peer_certificate(s.native_handle());
        char buf[256];
        X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
        X509_free(cert);
        return std::string(buf);
    };
    CHECK_THAT(subject_for("api.other.test"), Catch::Contains("CN = api.other.test") || Catch::Contains("CN=api.other.test"));
    CHECK_THAT(subject_for("localhost"), Catch::Contains("localhost"));
}

TEST_CASE("wss: websocket echo over TLS", "[server][tls][websocket]") {
    App app = hello_app();
    app.ws("/echo", [](spur::WebSocket& ws) -> spur::Task<> {
        while (auto m = co_await ws.receive()) co_await ws.send(m->data);
    });
    TestServer srv(app, tls_options());
    net::io_context io;
    auto ctx = client_context();
    beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, ctx);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), srv.server().tls_port()});
    SSL_set_tlsext_host_name(ws.next_layer().native_handle(), "localhost");
    ws.next_layer().handshake(ssl::stream_base::client);
    ws.handshake("localhost", "/echo");
    ws.write(net::buffer(std::string("secure hello")));
    beast::flat_buffer buffer;
    ws.read(buffer);
    CHECK(beast::buffers_to_string(buffer.data()) == "secure hello");
    ws.close(beast::websocket::close_code::normal);
}
