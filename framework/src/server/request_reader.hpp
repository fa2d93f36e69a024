#pragma once
// The reading side of a connection: its bounded buffer, reads under a deadline, and a request's
// header block — scanned by spur, parsed by Beast, checked by spur.

#include "server/exchange.hpp"
#include "server/framing.hpp"
#include "util/net.hpp"

#include <spur/log.hpp>
#include <spur/server.hpp>
#include <spur/task.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string_view>

namespace spur::detail {

class Pipeline;
class Transport;

class RequestReader {
public:
    /// The buffer holds at most a request line, a header block and 8 KiB more: an oversized
    /// chunk line or trailer fails as a malformed body instead of growing memory.
    RequestReader(Transport& transport, const ServerOptions& options);

    beast::flat_buffer& buffer() noexcept { return buffer_; }
    /// What is buffered and not yet parsed.
    std::string_view buffered() const noexcept;

    /// Where the first bytes of the next request go (the buffer is empty): a connection's
    /// first-read size, or what an idle connection kept. The caller reads into it — no
    /// coroutine of the reader's on the path of every request — and reports with received_first().
    net::mutable_buffer first_buffer(bool first);
    void received_first(std::size_t n) noexcept;
    /// Reads what the transport has into the rest of the buffer (the caller set the deadline).
    Task<> read_some(boost::system::error_code& ec);
    /// Frees what an idle keep-alive connection does not need: a buffer larger than the idle
    /// size, unless the last requests needed it (a pipelining client's batch).
    void idle() noexcept;

    /// Whether the header is complete (or refused: `rejection` set) in what was read already —
    /// a pipelined one, or the usual request that came in one read, needs no coroutine.
    bool header_here(HeaderScanner& scanner, Rejection& rejection) noexcept;
    /// Reads until the header is complete or refused (true), or the client leaves or runs out
    /// of header_timeout (false: the transport closes the socket when its deadline passes, so
    /// a slow client is dropped without an answer, as nginx does). Held answers are written
    /// first: the client may be waiting for them before it sends more.
    Task<bool> read_header(HeaderScanner& scanner, Rejection& rejection, Pipeline& held, const LogSink& log);
    /// Beast parses the scanned header; spur checks what Beast lets through. Once it parsed,
    /// the header leaves the buffer and `parsed` is set; a rejection may still follow.
    Rejection parse_header(const HeaderScanner& scanner, RequestParser& parser, bool& parsed);

private:
    Transport& transport_;
    const ServerOptions& options_;
    beast::flat_buffer buffer_;
    std::size_t received_ = 0;  // bytes read since the connection last waited for a request
};

}  // namespace spur::detail
