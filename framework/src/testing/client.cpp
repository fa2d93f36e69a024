#include <spur/testing/client.hpp>

#include <spur/http_error.hpp>
#include <spur/server.hpp>
#include <spur/serving.hpp>
#include <spur/detail/wire.hpp>

#include "server/finish.hpp"
#include "util/net.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <optional>
#include <stdexcept>
#include <thread>

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

// A GET or HEAD body as the server has one: still on the wire until something reads it (the
// server reads such a body before the handler only for a typed Body<T>), so that a route
// behaves here as it does behind a socket.
class PendingBody final : public detail::Wire {
public:
    explicit PendingBody(std::string body) : body_(std::move(body)) {}
    bool body_complete() const noexcept override { return false; }
    std::size_t default_limit() const noexcept override { return ServerOptions{}.max_body_bytes; }
    Task<std::string_view> next(std::size_t limit) override {
        check(limit);
        if (given_) co_return std::string_view{};
        given_ = true;
        co_return std::string_view(body_);
    }
    Task<> read_all(std::string& out, std::size_t limit) override {
        check(limit);
        out.append(body_);
        co_return;
    }

private:
    void check(std::size_t limit) const {
        if (body_.size() > limit) throw HttpError(413, "payload_too_large", "Request body too large");
    }
    std::string body_;
    bool given_ = false;
};

Request::Message make_message(std::string_view method, std::string_view target, std::string body, const Headers& headers) {
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
    return message;
}

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

Client::Client(App& app) : app_(app), io_(std::make_unique<net::io_context>()) { (void)Serving(app_); }
Client::~Client() = default;

Result Client::request(std::string_view method, std::string_view target, std::string body, const Headers& headers) {
    const bool keep_on_wire = (method == "GET" || method == "HEAD") && !body.empty();
    auto message = make_message(method, target, std::move(body), headers);
    std::optional<PendingBody> pending;
    if (keep_on_wire) {
        pending.emplace(std::move(message.body()));
        message.body().clear();  // Content-Length stays, as on the wire
    }
    Request req(std::move(message), remote_address_, pending ? &*pending : nullptr);
    Response res;
    run_to_completion(*io_, app_.handle(req, res));

    const bool head = req.method() == "HEAD";
    auto framing = detail::finish_response(res, req.version(), head, req.keep_alive());
    Result result;
    result.status = res.status();
    // The header as it goes out: the response's own fields and the ones the server writes
    // itself (which the hooks do not see); what a hook sets afterwards never reaches the wire.
    result.headers = static_cast<const http::fields&>(res.header());
    detail::add_wire_fields(result.headers, framing);
    if (framing.stream) {
        CollectingWriter writer(result.body);
        run_to_completion(*io_, res.producer()(writer));
    } else if (framing.send_body) {
        result.body = res.body();
    }
    // As the server does: the hooks see the response once it is "written".
    res.bytes_sent(result.body.size());
    detail::run_finish_hooks(req, res, app_.log());
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

struct Stream::State {
    State(net::io_context& i, App& a) : io(i), app(a) {}
    net::io_context& io;
    App& app;
    std::unique_ptr<Request> req;
    Response res;
    detail::BodyFraming framing;
    http::fields wire;    // Date, Server, Content-Length: on the wire, not in res's header the hooks see
    std::string pending;  // arrived, not yet handed out by next_chunk()
    std::string events;   // handed to next_event(), not yet parsed
    bool done = false;
    bool finished = false;  // the finish hooks ran
    std::uint64_t received = 0;
    std::exception_ptr failure;
    net::cancellation_signal cancel;

    class Writer : public BodyWriter {
    public:
        explicit Writer(State& s) : s_(s) {}
        Task<> write(std::string_view chunk) override {
            s_.pending.append(chunk);
            s_.received += chunk.size();
            co_return;
        }

    private:
        State& s_;
    } writer{*this};

    // One step of the io_context; sleeps briefly when nothing is ready yet (work on another
    // thread, such as offloaded jobs, posts back later).
    void step() {
        if (io.stopped()) io.restart();
        if (io.run_one() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    void finish(bool left) {
        if (finished) return;
        finished = true;
        if (left) res.status(499);
        res.bytes_sent(received);
        detail::run_finish_hooks(*req, res, app.log());
    }
};

Stream::Stream(std::unique_ptr<State> state) : state_(std::move(state)) {}
Stream::Stream(Stream&&) noexcept = default;

Stream::~Stream() {
    if (state_) close();
}

int Stream::status() const noexcept { return state_->res.status(); }

std::string_view Stream::header(std::string_view name) const {
    const auto value = state_->res.get(name);
    if (!value.empty()) return value;
    const auto wire = state_->wire[name];
    return {wire.data(), wire.size()};
}

bool Stream::ended() const noexcept { return state_->done && state_->pending.empty(); }

std::string Stream::next_chunk() {
    auto& s = *state_;
    while (s.pending.empty() && !s.done) s.step();
    if (s.pending.empty() && s.failure) std::rethrow_exception(std::exchange(s.failure, nullptr));
    if (s.done && s.pending.empty()) s.finish(false);
    return std::exchange(s.pending, {});
}

std::optional<ReceivedEvent> Stream::next_event() {
    auto& s = *state_;
    for (;;) {
        auto end = s.events.find("\n\n");
        if (end == std::string::npos) {
            auto chunk = next_chunk();
            if (chunk.empty()) return std::nullopt;
            s.events += chunk;
            continue;
        }
        std::string_view block(s.events.data(), end + 1);
        ReceivedEvent event;
        bool any = false, has_data = false;
        while (!block.empty()) {
            auto nl = block.find('\n');
            auto line = block.substr(0, nl);
            block.remove_prefix(nl + 1);
            if (line.empty() || line.front() == ':') continue;
            auto colon = line.find(':');
            auto field = line.substr(0, colon);
            auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            any = true;
            if (field == "data") {
                if (has_data) event.data += '\n';
                event.data += value;
                has_data = true;
            } else if (field == "event") {
                event.event = value;
            } else if (field == "id") {
                event.id = value;
            } else if (field == "retry") {
                event.retry = std::stol(std::string(value));
            }
        }
        s.events.erase(0, end + 2);
        if (any) return event;
    }
}

void Stream::close() {
    auto& s = *state_;
    const bool early = !s.done;
    if (early) s.cancel.emit(net::cancellation_type::terminal);
    while (!s.done) s.step();
    s.finish(early);
}

Stream Client::open(std::string_view method, std::string_view target, const Headers& headers) {
    auto state = std::make_unique<Stream::State>(*io_, app_);
    state->req = std::make_unique<Request>(make_message(method, target, {}, headers), remote_address_);
    run_to_completion(*io_, app_.handle(*state->req, state->res));
    const bool head = state->req->method() == "HEAD";
    state->framing = detail::finish_response(state->res, state->req->version(), head, state->req->keep_alive());
    detail::add_wire_fields(state->wire, state->framing);
    auto* s = state.get();
    if (state->framing.stream) {
        net::co_spawn(*io_, state->res.producer()(state->writer),
                      net::bind_cancellation_slot(s->cancel.slot(), [s](std::exception_ptr e) {
                          s->done = true;
                          s->failure = e;
                      }));
    } else {
        if (state->framing.send_body) {
            state->pending = state->res.body();
            state->received = state->pending.size();
        }
        state->done = true;
    }
    return Stream(std::move(state));
}

}  // namespace spur::testing
