#include <spur/request.hpp>

#include <spur/app.hpp>
#include <spur/random.hpp>

#include <spur/cookie.hpp>
#include <spur/http_error.hpp>

#include <spur/detail/parse_json.hpp>
#include <spur/offload.hpp>

#include "core/request_access.hpp"
#include "util/net.hpp"
#include "util/url.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json/parse.hpp>

namespace spur {

std::string_view Request::id() const {
    if (id_.empty()) id_ = random_uuid();
    return id_;
}

RequestLog Request::log() const { return RequestLog(app().log(), id()); }


Request::Request() { split_target(); }

Request::Request(Message message, std::string_view remote_address, BodySource* body, detail::HandlingObserver* observer)
    : message_(std::move(message)), remote_address_(remote_address), observer_(observer), body_source_(body) {
    split_target();
}

void Request::split_target() noexcept {
    path_ = detail::target_path(message_.target());
    query_string_ = detail::target_query(message_.target());
}

App& Request::app() const {
    if (!app_) throw std::logic_error("spur: Request::app() on a request no App is handling");
    return *app_;
}

std::string_view Request::method() const noexcept { return message_.method_string(); }

std::string_view Request::param(std::string_view name) const noexcept {
    for (const auto& [key, value] : params_)
        if (key == name) return value;
    return {};
}

void Request::parse_query() const {
    if (!query_) query_ = detail::parse_query(query_string_);
}

std::optional<std::string_view> Request::query(std::string_view key) const {
    parse_query();
    for (const auto& [k, v] : *query_)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> Request::query_all(std::string_view key) const {
    parse_query();
    std::vector<std::string_view> out;
    for (const auto& [k, v] : *query_)
        if (k == key) out.emplace_back(v);
    return out;
}

std::string_view Request::header(std::string_view name) const { return message_[name]; }

bool Request::has_header(std::string_view name) const { return message_.find(name) != message_.end(); }

void Request::parse_cookies() const {
    if (cookies_) return;
    cookies_.emplace();
    for (auto it = message_.find(http::field::cookie); it != message_.end() && it->name() == http::field::cookie; ++it) {
        auto pairs = parse_cookie_header(it->value());
        cookies_->insert(cookies_->end(), std::make_move_iterator(pairs.begin()), std::make_move_iterator(pairs.end()));
    }
}

std::optional<std::string_view> Request::cookie(std::string_view name) const {
    parse_cookies();
    for (const auto& [k, v] : *cookies_)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

namespace {
json::value parse_body(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) throw HttpError(400, "invalid_json", "Request body is not valid JSON");
    return v;
}
}  // namespace

const json::value& Request::json() const {
    if (!json_) json_ = parse_body(message_.body());
    return *json_;
}

std::size_t Request::body_limit(std::size_t max_bytes) const noexcept {
    std::size_t limit = max_bytes;
    if (match_.body_limit) limit = std::min(limit, *match_.body_limit);
    else if (body_source_) limit = std::min(limit, body_source_->default_limit());
    return limit;
}

Task<> Request::read_body(std::size_t max_bytes) {
    const std::size_t limit = body_limit(max_bytes);
    if (body_pending()) {
        co_await body_source_->read_all(message_.body(), limit);
        body_done_ = true;
    }
    // A body built in memory (the test client) obeys the same limits as one from the wire.
    if (message_.body().size() > limit) throw HttpError(413, "payload_too_large", "Request body too large");
}

Task<std::string_view> Request::read_body_chunk() {
    if (body_pending()) {
        auto chunk = co_await body_source_->next(body_limit(std::numeric_limits<std::size_t>::max()));
        if (chunk.empty()) body_done_ = true;
        co_return chunk;
    }
    if (whole_body_given_) co_return std::string_view{};
    whole_body_given_ = true;
    if (message_.body().size() > body_limit(std::numeric_limits<std::size_t>::max()))
        throw HttpError(413, "payload_too_large", "Request body too large");
    co_return std::string_view(message_.body());
}

namespace detail {

Task<> parse_json(Request& req) {
    auto& cached = RequestAccess::json(req);
    if (cached) co_return;
    const std::string& body = req.body();
    if (body.size() < json_offload_bytes) {
        cached = parse_body(body);
        co_return;
    }
    auto parse = [&body] { return parse_body(body); };
    auto value = co_await offload(parse);
    cached = std::move(value);
}

}  // namespace detail

}  // namespace spur
