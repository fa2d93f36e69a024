// spur::HttpClient on Beast: one request per pooled connection at a time, TLS through OpenSSL
// with the system's CA store, every wait bounded by a timeout.
#include <spur/http_client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace spur {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Kind = HttpClientError::Kind;

namespace {

// Where a URL points: scheme, host and port decide the pool; target is what the request line says.
struct Target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
    std::string key;
};

Target parse_target(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw HttpClientError(Kind::invalid_url, "invalid URL \"" + url + "\"");
    const auto& u = *parsed;
    Target t;
    const auto scheme = u.scheme();
    if (beast::iequals(scheme, "https")) t.tls = true;
    else if (!beast::iequals(scheme, "http")) throw HttpClientError(Kind::invalid_url, "not an http(s) URL: \"" + url + "\"");
    t.host = u.host_address();
    if (t.host.empty()) throw HttpClientError(Kind::invalid_url, "no host in \"" + url + "\"");
    t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
    t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
    t.key = (t.tls ? "https://" : "http://") + t.host + ":" + t.port;
    return t;
}

// RFC 9110 token characters: what a method and a header name consist of.
bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// A field value may not hold CR or LF (they would end the field and start another, or the
// request), NUL, or any other control character but tab (RFC 9110 section 5.5).
bool is_field_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7f;
    });
}

void check_sendable(std::string_view method, const HttpClient::Headers& headers, std::string_view user_agent) {
    if (!is_token(method)) throw HttpClientError(Kind::invalid_request, "the method is not an HTTP token");
    if (!is_field_value(user_agent))
        throw HttpClientError(Kind::invalid_request, "HttpClientOptions::user_agent holds a control character");
    for (const auto& [name, value] : headers) {
        // The name only: a value may be a credential, which an error message must not carry.
        if (!is_token(name)) throw HttpClientError(Kind::invalid_request, "a header name is not an HTTP token");
        if (!is_field_value(value))
            throw HttpClientError(Kind::invalid_request, "the value of header " + name + " holds CR, LF or another control character");
    }
}

// Addresses a server-side request must not be steered to: this host, its links, private
// networks, and what is not unicast on the Internet. IPv4-mapped and NAT64 forms are judged
// by the IPv4 address inside them.
bool is_public(const net::ip::address_v4& a) {
    static const net::ip::network_v4 refused[] = {
        net::ip::make_network_v4("0.0.0.0/8"),      net::ip::make_network_v4("10.0.0.0/8"),
        net::ip::make_network_v4("100.64.0.0/10"),  net::ip::make_network_v4("127.0.0.0/8"),
        net::ip::make_network_v4("169.254.0.0/16"), net::ip::make_network_v4("172.16.0.0/12"),
        net::ip::make_network_v4("192.0.0.0/24"),   net::ip::make_network_v4("192.168.0.0/16"),
        net::ip::make_network_v4("198.18.0.0/15"),  net::ip::make_network_v4("224.0.0.0/4"),
        net::ip::make_network_v4("240.0.0.0/4")};
    return std::none_of(std::begin(refused), std::end(refused), [&](const net::ip::network_v4& n) {
        return net::ip::network_v4(a, n.prefix_length()).canonical() == n;
    });
}

bool is_public(const net::ip::address& address) {
    if (address.is_v4()) return is_public(address.to_v4());
    const auto a = address.to_v6();
    if (a.is_v4_mapped()) return is_public(net::ip::make_address_v4(net::ip::v4_mapped, a));
    static const auto nat64 = net::ip::make_network_v6("64:ff9b::/96");
    if (net::ip::network_v6(a, 96).canonical() == nat64) {
        const auto b = a.to_bytes();
        return is_public(net::ip::address_v4(net::ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]}));
    }
    static const net::ip::network_v6 refused[] = {
        net::ip::make_network_v6("::/96"),  // unspecified, loopback, and the old IPv4-compatible form
        net::ip::make_network_v6("fc00::/7"), net::ip::make_network_v6("fe80::/10"),
        net::ip::make_network_v6("fec0::/10"), net::ip::make_network_v6("ff00::/8")};
    return std::none_of(std::begin(refused), std::end(refused), [&](const net::ip::network_v6& n) {
        return net::ip::network_v6(a, n.prefix_length()).canonical() == n;
    });
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

struct Connection {
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since{};

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    // An idle keep-alive connection the server closed (or wrote to unasked) is readable.
    bool still_idle() {
        pollfd p{lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
        return ::poll(&p, 1, 0) == 0;
    }
};

HttpClientError failure(const boost::system::error_code& ec, Kind otherwise, const Target& t, std::string_view stage) {
    Kind kind = otherwise;
    if (ec == beast::error::timeout) kind = Kind::timeout;
    else if (ec == net::error::operation_aborted) kind = Kind::cancelled;
    else if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow) kind = Kind::too_large;
    else if (ec.category() == net::error::get_ssl_category() || ec == ssl::error::stream_truncated) kind = Kind::tls;
    return HttpClientError(kind, std::string(stage) + " " + t.key + ": " + ec.message());
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" || method == "TRACE";
}

bool redirect_status(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }

// Idle connections live in a service of the io_context their sockets belong to, so they are
// closed while that context's socket services still exist (a context shuts its services down
// in reverse order of creation) — however long the HttpClient itself lives.
class IdleConnections : public net::execution_context::service {
public:
    using key_type = IdleConnections;
    static inline net::execution_context::id id;
    explicit IdleConnections(net::execution_context& context) : service(context) {}

    std::unique_ptr<Connection> take(std::uint64_t client, const std::string& key, std::chrono::milliseconds max_idle_time) {
        std::lock_guard lock(mutex_);
        auto it = lists_.find({client, key});
        if (it == lists_.end()) return nullptr;
        const auto now = std::chrono::steady_clock::now();
        while (!it->second.empty()) {
            auto c = std::move(it->second.back());
            it->second.pop_back();
            if (now - c->idle_since < max_idle_time && c->still_idle()) return c;
        }
        return nullptr;
    }

    bool put(std::uint64_t client, const std::string& key, std::unique_ptr<Connection>& c, std::size_t max) {
        c->idle_since = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        auto& list = lists_[{client, key}];
        if (list.size() >= max) return false;
        list.push_back(std::move(c));
        return true;
    }

    std::size_t count(std::uint64_t client) {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& [k, list] : lists_)
            if (k.first == client) n += list.size();
        return n;
    }

private:
    void shutdown() override {
        std::lock_guard lock(mutex_);
        lists_.clear();
    }
    std::mutex mutex_;
    // By client too: connections made under one client's TLS settings never serve another.
    std::map<std::pair<std::uint64_t, std::string>, std::vector<std::unique_ptr<Connection>>> lists_;
};

std::atomic<std::uint64_t> next_client_id{1};

}  // namespace

struct HttpClient::Impl {
    HttpClientOptions options;
    ssl::context tls_context{ssl::context::tls_client};
    const std::uint64_t id = next_client_id.fetch_add(1);

    static bool connected_to_public(Connection& c) {
        boost::system::error_code ec;
        const auto peer = c.lowest().socket().remote_endpoint(ec);
        return !ec && is_public(peer.address());
    }

    static IdleConnections& pool_of(const net::any_io_executor& executor) {
        return net::use_service<IdleConnections>(net::query(executor, net::execution::context));
    }

    std::unique_ptr<Connection> take_idle(const net::any_io_executor& executor, const std::string& key) {
        return pool_of(executor).take(id, key, options.idle_timeout);
    }

    void give_back(const net::any_io_executor& executor, const std::string& key, std::unique_ptr<Connection> c) {
        pool_of(executor).put(id, key, c, options.max_idle_per_host);  // beyond the limit, c closes here
    }

    // `public_only`: refuse the host unless every address it resolves to is public; the check
    // runs on the very endpoints connected to, so a second lookup cannot change the answer.
    Task<std::unique_ptr<Connection>> connect(const Target& t, bool public_only) {
        using namespace net::experimental::awaitable_operators;
        auto executor = co_await net::this_coro::executor;
        tcp::resolver resolver(executor);
        net::steady_timer deadline(executor, options.connect_timeout);
        auto resolved = co_await (resolver.async_resolve(t.host, t.port, net::as_tuple(net::use_awaitable)) ||
                                  deadline.async_wait(net::as_tuple(net::use_awaitable)));
        if (resolved.index() == 1) throw HttpClientError(Kind::timeout, "resolving " + t.key + ": timed out");
        auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
        if (resolve_ec) throw failure(resolve_ec, Kind::connect, t, "resolving");
        if (public_only)
            for (const auto& entry : endpoints)
                if (!is_public(entry.endpoint().address()))
                    throw HttpClientError(Kind::blocked, "refusing " + t.key + ": it resolves to " +
                                                             entry.endpoint().address().to_string() +
                                                             ", which is not a public address (HttpClientOptions::block_private_*)");

        auto c = std::make_unique<Connection>();
        // Bytes the parser has not consumed yet: a header (max_header_bytes) or a chunk line
        // and one read's worth. Beast bounds neither chunk extensions nor trailers itself.
        c->buffer.max_size(options.max_header_bytes + 64 * 1024);
        if (t.tls) c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, tls_context);
        else c->plain = std::make_unique<beast::tcp_stream>(executor);
        auto& stream = c->lowest();
        stream.expires_after(options.connect_timeout);
        auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, net::as_tuple(net::use_awaitable));
        if (connect_ec) throw failure(connect_ec, Kind::connect, t, "connecting to");
        (void)endpoint;
        if (c->tls) {
            // SNI names the host; the certificate must name it too (or its address).
            if (!is_ip_literal(t.host) && !SSL_set_tlsext_host_name(c->tls->native_handle(), t.host.c_str()))
                throw HttpClientError(Kind::tls, "TLS " + t.key + ": cannot set the server name");
            if (options.verify_tls) c->tls->set_verify_callback(ssl::host_name_verification(t.host));
            auto [tls_ec] = co_await c->tls->async_handshake(ssl::stream_base::client, net::as_tuple(net::use_awaitable));
            if (tls_ec) throw failure(tls_ec, Kind::tls, t, "TLS handshake with");
        }
        co_return c;
    }

    template <class Stream>
    Task<boost::system::error_code> write_read(Stream& stream, Connection& c, http::request<http::string_body>& req,
                                               http::response_parser<http::string_body>& parser) {
        auto [write_ec, written] = co_await http::async_write(stream, req, net::as_tuple(net::use_awaitable));
        (void)written;
        if (write_ec) co_return write_ec;
        auto [read_ec, read] = co_await http::async_read(stream, c.buffer, parser, net::as_tuple(net::use_awaitable));
        (void)read;
        co_return read_ec;
    }

    // One request on one connection. `answered` tells the caller whether the server sent
    // anything, i.e. whether sending it again could repeat its effect.
    Task<ClientResponse> exchange(const Target& t, Connection& c, http::request<http::string_body>& req, bool& reusable,
                                  bool& answered) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(options.max_response_bytes);
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        if (req.method() == http::verb::head) parser.skip(true);
        c.lowest().expires_after(options.timeout);
        boost::system::error_code ec;
        if (c.tls) {
            ec = co_await write_read(*c.tls, c, req, parser);
        } else {
            ec = co_await write_read(*c.plain, c, req, parser);
        }
        answered = parser.got_some() || c.buffer.size() > 0;
        if (ec) throw failure(ec, Kind::protocol, t, "request to");
        c.lowest().expires_never();
        auto res = parser.release();
        reusable = res.keep_alive() && c.buffer.size() == 0;
        ClientResponse out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        out.body = std::move(res.body());
        co_return out;
    }

    Task<ClientResponse> send(const Target& t, http::request<http::string_body>& req, bool public_only) {
        const auto executor = co_await net::this_coro::executor;
        for (int attempt = 0;; ++attempt) {
            auto c = take_idle(executor, t.key);
            // A pooled connection an unchecked request opened may lead somewhere this one may not go.
            if (c && public_only && !connected_to_public(*c)) give_back(executor, t.key, std::move(c));
            const bool reused = c != nullptr;
            if (!c) c = co_await connect(t, public_only);
            bool reusable = false, answered = false;
            std::optional<HttpClientError> error;
            try {
                auto res = co_await exchange(t, *c, req, reusable, answered);
                if (reusable) give_back(executor, t.key, std::move(c));
                co_return res;
            } catch (const HttpClientError& e) {
                error = e;
            }
            // A pooled connection the server closed between our check and our write: nothing
            // was processed, so an idempotent request may go again, once, on a new connection.
            const bool retry = reused && !answered && attempt == 0 && idempotent(std::string_view(req.method_string())) &&
                               error->kind() == Kind::protocol;
            if (!retry) throw *error;
        }
    }
};

std::string_view ClientResponse::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (beast::iequals(n, name)) return v;
    return {};
}

boost::json::value ClientResponse::json() const {
    std::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec) throw HttpClientError(Kind::protocol, "the response body is not JSON: " + ec.message());
    return v;
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_shared<Impl>()) {
    auto& ctx = impl_->tls_context;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options.verify_tls) {
        ctx.set_default_verify_paths();
        if (!options.ca_file.empty()) {
            boost::system::error_code ec;
            ctx.load_verify_file(options.ca_file, ec);
            if (ec) throw std::invalid_argument("HttpClient: cannot read ca_file " + options.ca_file + ": " + ec.message());
        }
        ctx.set_verify_mode(ssl::verify_peer);
    } else {
        ctx.set_verify_mode(ssl::verify_none);
    }
    impl_->options = std::move(options);
}

HttpClient::~HttpClient() = default;

std::size_t HttpClient::idle_connections(boost::asio::execution_context& context) const {
    return net::use_service<IdleConnections>(context).count(impl_->id);
}

Task<ClientResponse> HttpClient::request(std::string method, std::string url, std::string body, Headers headers) {
    auto impl = impl_;  // the pool outlives this request even if the client is destroyed meanwhile
    const auto& o = impl->options;
    check_sendable(method, headers, o.user_agent);
    for (int redirects = 0;; ++redirects) {
        const auto t = parse_target(url);
        http::request<http::string_body> req;
        req.method_string(method);
        req.target(t.target);
        req.version(11);
        const bool default_port = t.port == (t.tls ? "443" : "80");
        req.set(http::field::host, (t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host) +
                                       (default_port ? "" : ":" + t.port));
        req.set(http::field::user_agent, o.user_agent);
        for (const auto& [name, value] : headers) req.set(name, value);
        req.body() = body;
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") req.prepare_payload();
        const bool public_only = redirects == 0 ? o.block_private_targets : o.block_private_redirects || o.block_private_targets;
        auto res = co_await impl->send(t, req, public_only);
        if (o.max_redirects == 0 || !redirect_status(res.status)) co_return res;
        if (redirects >= o.max_redirects)
            throw HttpClientError(Kind::redirects, "more than " + std::to_string(o.max_redirects) + " redirects from " + url);
        boost::urls::url next(url);
        auto location = boost::urls::parse_uri_reference(res.header("Location"));
        if (res.header("Location").empty() || !location || next.resolve(*location).has_error())
            throw HttpClientError(Kind::redirects, "a " + std::to_string(res.status) + " without a usable Location from " + url);
        // 303, and 301/302 after a POST as browsers do, continue with a GET without the body.
        if (res.status == 303 || ((res.status == 301 || res.status == 302) && method == "POST")) {
            method = method == "HEAD" ? "HEAD" : "GET";
            body.clear();
            std::erase_if(headers, [](const auto& h) { return beast::iequals(h.first, "Content-Type"); });
        }
        const auto next_url = std::string(next.buffer());
        // What was sent over TLS must not come back in the clear (credentials, cookies, the body).
        if (t.tls && !parse_target(next_url).tls)
            throw HttpClientError(Kind::redirects, "refusing a redirect from https to http (" + next_url + ")");
        // Credentials were meant for the first host only.
        if (parse_target(next_url).key != t.key)
            std::erase_if(headers, [](const auto& h) {
                return beast::iequals(h.first, "Authorization") || beast::iequals(h.first, "Cookie");
            });
        url = next_url;
    }
}

Task<ClientResponse> HttpClient::get(std::string url, Headers headers) {
    return request("GET", std::move(url), {}, std::move(headers));
}

Task<ClientResponse> HttpClient::post_json(std::string url, const boost::json::value& value, Headers headers) {
    headers.emplace_back("Content-Type", "application/json");
    return request("POST", std::move(url), boost::json::serialize(value), std::move(headers));
}

}  // namespace spur
