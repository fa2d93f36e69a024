// A response's body read as it arrives: pieces off the wire into one buffer of
// stream_chunk_bytes, lines and server-sent events cut from them within max_event_bytes.
#include "client/client_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

namespace spur {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Kind = HttpClientError::Kind;

namespace {

template <class Stream>
Task<boost::system::error_code> read_some(Stream& stream, client::Connection& c,
                                          http::response_parser<http::buffer_body>& parser) {
    auto [ec, n] = co_await http::async_read_some(stream, c.buffer, parser, net::as_tuple(net::use_awaitable));
    (void)n;
    co_return ec;
}

}  // namespace

std::string_view ClientStream::Impl::header_value(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (beast::iequals(n, name)) return v;
    return {};
}

void ClientStream::Impl::arm_timer() {
    const auto at = client::Clock::now() + client->options.timeout;
    connection->lowest().expires_at(deadline && *deadline < at ? *deadline : at);
}

HttpClientError ClientStream::Impl::deadline_or(const boost::system::error_code& ec, std::string_view stage) {
    if (ec == beast::error::timeout && deadline && client::Clock::now() >= *deadline)
        return HttpClientError(Kind::timeout, std::string(stage) + " " + target.key + ": the call's deadline passed");
    return client::failure(ec, Kind::protocol, target, stage);
}

void ClientStream::Impl::finish() {
    finished = true;
    if (!connection) return;
    const bool reusable = parser.get().keep_alive() && connection->buffer.size() == 0;
    if (!reusable) return close();
    connection->lowest().expires_never();
    client->give_back(executor, target.key, std::move(connection));
}

void ClientStream::Impl::close() noexcept {
    finished = true;
    connection.reset();  // the socket closes: the server sees the client leave now
}

Task<std::string_view> ClientStream::Impl::read_piece() {
    if (finished || !connection) co_return std::string_view{};
    const auto size = client->options.stream_chunk_bytes;
    if (!chunk) chunk = std::make_unique<char[]>(size);
    for (;;) {
        if (parser.is_done()) {
            finish();
            co_return std::string_view{};
        }
        auto& body = parser.get().body();
        body.data = chunk.get();
        body.size = size;
        if (!whole_response) arm_timer();
        auto& conn = *connection;
        boost::system::error_code ec;
        if (conn.tls) ec = co_await read_some(*conn.tls, conn, parser);
        else ec = co_await read_some(*conn.plain, conn, parser);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            auto error = deadline_or(ec, "reading the response of");
            close();
            throw error;
        }
        const auto got = size - parser.get().body().size;
        if (got > 0) co_return std::string_view(chunk.get(), got);
    }
}

Task<std::optional<std::string>> ClientStream::Impl::read_line(bool cr_ends_line, std::size_t max_bytes) {
    for (;;) {
        if (unread.empty()) {
            unread = co_await read_piece();
            if (unread.empty()) {
                if (line.empty()) co_return std::nullopt;
                co_return std::exchange(line, {});  // a last line without a line break
            }
        }
        if (skip_lf) {
            skip_lf = false;
            if (unread.front() == '\n') {
                unread.remove_prefix(1);
                continue;
            }
        }
        const auto end = unread.find_first_of(cr_ends_line ? std::string_view("\r\n") : std::string_view("\n"));
        const auto take = std::min(end, unread.size());
        if (line.size() + take > max_bytes) {
            close();
            throw HttpClientError(Kind::too_large, "a line of the response of " + target.key +
                                                       " is longer than HttpClientOptions::max_event_bytes");
        }
        line.append(unread.substr(0, take));
        if (end == std::string_view::npos) {
            unread = {};
            continue;
        }
        const char ended_by = unread[end];
        unread.remove_prefix(end + 1);
        if (ended_by == '\r') skip_lf = true;
        else if (!cr_ends_line && !line.empty() && line.back() == '\r') line.pop_back();
        co_return std::exchange(line, {});
    }
}

ClientStream::ClientStream(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ClientStream::ClientStream(ClientStream&&) noexcept = default;
ClientStream& ClientStream::operator=(ClientStream&&) noexcept = default;
ClientStream::~ClientStream() = default;

int ClientStream::status() const noexcept { return impl_->status; }
const ClientHeaders& ClientStream::headers() const noexcept { return impl_->headers; }
std::string_view ClientStream::header(std::string_view name) const { return impl_->header_value(name); }
bool ClientStream::done() const noexcept { return impl_->finished; }
void ClientStream::close() noexcept { impl_->close(); }

Task<std::string_view> ClientStream::next_chunk() {
    // What next_line() or next_event() left of the last piece comes first.
    if (!impl_->unread.empty()) co_return std::exchange(impl_->unread, {});
    co_return co_await impl_->read_piece();
}

Task<std::optional<std::string>> ClientStream::next_line() {
    co_return co_await impl_->read_line(false, impl_->client->options.max_event_bytes);
}

Task<std::optional<Event>> ClientStream::next_event() {
    auto& s = *impl_;
    if (!s.events) s.events.emplace(s.client->options.max_event_bytes);
    for (;;) {
        auto line = co_await s.read_line(true, s.client->options.max_event_bytes);
        if (!line) co_return std::nullopt;  // an event the stream ended in the middle of is dropped, as EventSource drops it
        try {
            if (auto event = s.events->line(*line)) co_return std::move(*event);
        } catch (const HttpClientError&) {
            s.close();
            throw;
        }
    }
}

Task<std::string> ClientStream::read_all() {
    std::string body(impl_->unread);
    impl_->unread = {};
    for (;;) {
        auto piece = co_await impl_->read_piece();
        if (piece.empty()) co_return body;
        body.append(piece);
    }
}

}  // namespace spur
