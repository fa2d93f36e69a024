#include <spur/testing/client.hpp>

#include "core/finish.hpp"
#include "util/net.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace spur::testing {

namespace {
class CollectingWriter : public BodyWriter {
public:
    explicit CollectingWriter(std::string& out) : out_(out) {}
    Task<> write(std::string_view chunk) override {
        out_.append(chunk);
        co_return;
    }

private:
    std::string& out_;
};

// Runs one task to completion on the client's private io_context, rethrowing its exception.
void run_to_completion(net::io_context& io, Task<> task) {
    std::exception_ptr failure;
    net::co_spawn(io, std::move(task), [&failure](std::exception_ptr e) { failure = e; });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
}
}  // namespace

std::string_view Result::header(std::string_view name) const { return headers[name]; }

json::value Result::json() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) throw std::runtime_error("response body is not JSON: " + body.substr(0, 200));
    return v;
}

Client::Client(App& app) : app_(app), io_(std::make_unique<net::io_context>()) { app_.freeze(); }
Client::~Client() = default;

Result Client::request(std::string_view method, std::string_view target, std::string body, const Headers& headers) {
    Request::Message message;
    message.method_string(method);
    message.target(target);
    message.version(11);
    for (const auto& [name, value] : headers) message.insert(name, value);
    // A Host given by the caller replaces the default (same-origin checks compare with it).
    if (message.find(http::field::host) == message.end()) message.set(http::field::host, "localhost");
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        message.body() = std::move(body);
        message.prepare_payload();
    }
    Request req(std::move(message), remote_address_);
    Response res;
    run_to_completion(*io_, app_.handle(req, res));

    const bool head = req.method() == "HEAD";
    auto framing = detail::finish_response(res, req.version(), head, req.keep_alive());
    Result result;
    result.status = res.status();
    if (framing.stream) {
        CollectingWriter writer(result.body);
        run_to_completion(*io_, res.producer()(writer));
    } else if (framing.send_body) {
        result.body = res.body();
    }
    // As the server does: the hooks see the response once it is "written".
    res.bytes_sent(result.body.size());
    detail::run_finish_hooks(req, res, app_.log());
    result.headers = static_cast<const http::fields&>(res.header());
    return result;
}

Result Client::send_json(std::string_view method, std::string_view target, const json::value& value, Headers headers) {
    headers.emplace_back("Content-Type", "application/json");
    return request(method, target, json::serialize(value), headers);
}

Result Client::post_json(std::string_view target, const json::value& value, Headers headers) {
    return send_json("POST", target, value, std::move(headers));
}
Result Client::put_json(std::string_view target, const json::value& value, Headers headers) {
    return send_json("PUT", target, value, std::move(headers));
}
Result Client::patch_json(std::string_view target, const json::value& value, Headers headers) {
    return send_json("PATCH", target, value, std::move(headers));
}

}  // namespace spur::testing
