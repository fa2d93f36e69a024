#include "server/request_reader.hpp"

#include "server/pipeline.hpp"
#include "server/transport.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <limits>
#include <utility>

namespace spur::detail {

namespace {
// Reads fill what the buffer already holds, at least min_read: an idle keep-alive connection
// then keeps a buffer the size of its requests so far, not a fixed large block.
constexpr std::size_t min_read = 1024;
// An idle keep-alive connection waits with a buffer of this size (what Beast's own reads
// start with): 10,000 idle connections are then 5 MiB lighter than with min_read. One whose
// last requests took more (a pipelining client's batch) keeps its buffer up to kept_read,
// so that each batch still arrives in one read.
constexpr std::size_t idle_read = 512;
constexpr std::size_t kept_read = 4 * 1024;
constexpr std::size_t max_read = 16 * 1024;
}  // namespace

RequestReader::RequestReader(Transport& transport, const ServerOptions& options)
    : transport_(transport), options_(options), buffer_(options.max_request_line + options.max_header_bytes + 8 * 1024) {}

std::string_view RequestReader::buffered() const noexcept {
    auto data = buffer_.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

net::mutable_buffer RequestReader::first_buffer(bool first) {
    return buffer_.prepare(first ? min_read : std::max(idle_read, buffer_.capacity()));
}

void RequestReader::received_first(std::size_t n) noexcept {
    buffer_.commit(n);
    received_ = n;
}

Task<> RequestReader::read_some(boost::system::error_code& ec) {
    const std::size_t free = buffer_.max_size() - buffer_.size();
    const std::size_t want = std::clamp(buffer_.capacity() - buffer_.size(), min_read, max_read);
    auto n = co_await transport_.read_some(buffer_.prepare(std::min(want, free)), ec);
    buffer_.commit(n);
    received_ += n;
}

void RequestReader::idle() noexcept {
    const bool busy = received_ > idle_read && buffer_.capacity() <= kept_read;
    if (buffer_.capacity() > idle_read && !busy) buffer_.shrink_to_fit();
}

bool RequestReader::header_here(HeaderScanner& scanner, Rejection& rejection) noexcept {
    const auto state = scanner.scan(buffered());
    if (state == HeaderScanner::State::rejected) rejection = scanner.rejection();
    return state != HeaderScanner::State::need_more;
}

Task<bool> RequestReader::read_header(HeaderScanner& scanner, Rejection& rejection, Pipeline& held, const LogSink& log) {
    bool deadline_set = false;  // only once a read is needed
    do {
        if (buffer_.size() == buffer_.max_size()) {
            rejection = {431, "headers_too_large", "Request header fields too large"};
            co_return true;
        }
        if (!held.empty()) {
            if (!co_await held.flush(transport_, options_.write_timeout, log)) co_return false;
            deadline_set = false;
        }
        if (!std::exchange(deadline_set, true)) transport_.expires_after(options_.header_timeout);
        boost::system::error_code ec;
        co_await read_some(ec);
        if (ec) co_return false;
    } while (!header_here(scanner, rejection));
    co_return true;
}

Rejection RequestReader::parse_header(const HeaderScanner& scanner, RequestParser& parser, bool& parsed) {
    parser.header_limit(std::numeric_limits<std::uint32_t>::max());  // the scanner enforces limits
    parser.body_limit(boost::none);  // the route's limit applies once something reads the body
    boost::system::error_code ec;
    const auto view = buffered();
    parser.put(net::buffer(view.data() + scanner.begin(), scanner.end() - scanner.begin()), ec);
    if (ec || !parser.is_header_done()) return {400, "bad_request", "Malformed request header"};
    parsed = true;
    buffer_.consume(scanner.end());
    const auto& message = parser.get();
    if (auto rejection = check_framing(message.base())) return rejection;
    if (auto expect = message[http::field::expect]; !parser.is_done() && !expect.empty() &&
                                                    !beast::iequals(expect, "100-continue"))
        return {417, "expectation_failed", "Unsupported Expect header"};
    return {};
}

}  // namespace spur::detail
