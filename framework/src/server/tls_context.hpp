#pragma once
// Builds the OpenSSL server context (and its SNI alternatives) from TlsOptions.

#include <spur/tls.hpp>

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur::detail {

/// The server's TLS contexts: the default one, and one per SNI name.
class TlsContext {
public:
    /// Offers "h2" by ALPN when `offer_h2`, else only http/1.1. Throws std::invalid_argument
    /// naming the file or setting that is wrong (unreadable certificate, key that does not
    /// match, bad cipher list).
    TlsContext(const TlsOptions& options, bool offer_h2);
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// The context new connections start with.
    boost::asio::ssl::context& get() noexcept { return main_; }
    /// The SNI context whose name matches `host`, or null.
    boost::asio::ssl::context* for_server_name(std::string_view host) noexcept;

private:
    boost::asio::ssl::context main_;
    std::vector<std::pair<std::string, std::unique_ptr<boost::asio::ssl::context>>> by_name_;
    std::unique_ptr<bool> offer_h2_;  // the ALPN callback's argument: a stable address
};

}  // namespace spur::detail
