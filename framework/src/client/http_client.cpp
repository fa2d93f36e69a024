// spur::HttpClient on Beast: a call is opened (exchange.cpp), its redirects followed here, and
// its body read whole (request) or handed over as a stream (open, client_stream.cpp).
#include <spur/http_client.hpp>

#include "client/client_impl.hpp"

#include <boost/asio/execution_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace spur {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using Kind = HttpClientError::Kind;
using namespace client;

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
    if (options.stream_chunk_bytes == 0) throw std::invalid_argument("HttpClient: stream_chunk_bytes must be at least 1");
    if (options.retry.max_attempts < 1) throw std::invalid_argument("HttpClient: retry.max_attempts must be at least 1");
    impl_->options = std::move(options);
}

HttpClient::~HttpClient() = default;

std::size_t HttpClient::idle_connections(boost::asio::execution_context& context) const {
    return net::use_service<IdleConnections>(context).count(impl_->id);
}

Task<ClientStream> HttpClient::open(std::string method, std::string url, std::string body, Headers headers, CallOptions call) {
    auto impl = impl_;  // the pool outlives this call even if the client is destroyed meanwhile
    auto s = co_await open_impl(impl, std::move(method), std::move(url), std::move(body), std::move(headers), call, false);
    co_return ClientStream(std::move(s));
}

Task<ClientResponse> HttpClient::request(std::string method, std::string url, std::string body, Headers headers,
                                         CallOptions call) {
    auto impl = impl_;
    auto s = co_await open_impl(impl, std::move(method), std::move(url), std::move(body), std::move(headers), call, true);
    ClientStream stream(std::move(s));
    ClientResponse out;
    out.body = co_await stream.read_all();
    out.status = stream.status();
    out.headers = stream.headers();
    co_return out;
}

Task<std::unique_ptr<ClientStream::Impl>> HttpClient::open_impl(std::shared_ptr<Impl> impl, std::string method,
                                                               std::string url, std::string body, Headers headers,
                                                               CallOptions call, bool whole_response) {
    const auto& o = impl->options;
    if (call.retry() && call.retry()->max_attempts < 1)
        throw HttpClientError(Kind::invalid_request, "CallOptions::retry: max_attempts must be at least 1");
    const bool has_traceparent = std::any_of(headers.begin(), headers.end(), [](const auto& h) {
        return beast::iequals(h.first, "traceparent");
    });
    if (!has_traceparent && !call.traceparent().empty()) {
        headers.emplace_back("traceparent", call.traceparent());
        if (!call.tracestate().empty()) headers.emplace_back("tracestate", call.tracestate());
    }
    check_sendable(method, headers, o.user_agent);
    for (int redirects = 0;; ++redirects) {
        const auto t = parse_target(url);
        OutgoingRequest req;
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
        auto s = co_await impl->open(impl, t, req, public_only, call, whole_response);
        if (o.max_redirects == 0 || !redirect_status(s->status)) co_return s;
        if (redirects >= o.max_redirects)
            throw HttpClientError(Kind::redirects, "more than " + std::to_string(o.max_redirects) + " redirects from " + url);
        const std::string location(s->header_value("Location"));
        const int status = s->status;
        s.reset();  // the redirect's own body is not read: its connection closes
        boost::urls::url next(url);
        auto reference = boost::urls::parse_uri_reference(location);
        if (location.empty() || !reference || next.resolve(*reference).has_error())
            throw HttpClientError(Kind::redirects, "a " + std::to_string(status) + " without a usable Location from " + url);
        // 303, and 301/302 after a POST as browsers do, continue with a GET without the body.
        if (status == 303 || ((status == 301 || status == 302) && method == "POST")) {
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

Task<ClientResponse> HttpClient::get(std::string url, Headers headers, CallOptions call) {
    return request("GET", std::move(url), {}, std::move(headers), std::move(call));
}

Task<ClientResponse> HttpClient::post_json(std::string url, const boost::json::value& value, Headers headers, CallOptions call) {
    headers.emplace_back("Content-Type", "application/json");
    return request("POST", std::move(url), boost::json::serialize(value), std::move(headers), std::move(call));
}

}  // namespace spur
