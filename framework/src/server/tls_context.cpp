#include "server/tls_context.hpp"

#include <boost/beast/core/string.hpp>

#include <openssl/ssl.h>

#include <stdexcept>

namespace spur::detail {

namespace {

namespace ssl = boost::asio::ssl;

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char alpn_h2_first[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// "h2" when HTTP/2 is offered and the client asks for it, else http/1.1; a client offering
// neither gets no ALPN answer and may fall back. The server's preference wins (OpenSSL walks
// the server's list first).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned in_len,
                void* offer_h2) {
    const bool h2 = *static_cast<const bool*>(offer_h2);
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_len, h2 ? alpn_h2_first : alpn_http11,
                              h2 ? sizeof alpn_h2_first : sizeof alpn_http11, in, in_len) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

void configure(ssl::context& ctx, const TlsOptions& options, const TlsCertificate& cert, const std::string& what,
               const bool* offer_h2) {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(native, options.ciphers.c_str()) != 1)
        throw std::invalid_argument("TLS: no usable cipher in the configured cipher list");
    SSL_CTX_set_alpn_select_cb(native, select_alpn, const_cast<bool*>(offer_h2));
    boost::system::error_code ec;
    if (!cert.cert_chain_pem.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert.cert_chain_pem), ec);
    } else {
        ctx.use_certificate_chain_file(cert.cert_chain_file, ec);
    }
    if (ec) throw std::invalid_argument("TLS: cannot load the certificate chain for " + what + ": " + ec.message());
    if (!cert.private_key_pem.empty()) {
        ctx.use_private_key(boost::asio::buffer(cert.private_key_pem), ssl::context::pem, ec);
    } else {
        ctx.use_private_key_file(cert.private_key_file, ssl::context::pem, ec);
    }
    if (ec) throw std::invalid_argument("TLS: cannot load the private key for " + what + ": " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1)
        throw std::invalid_argument("TLS: the private key does not match the certificate for " + what);
}

bool name_matches(std::string_view pattern, std::string_view host) {
    if (pattern.starts_with("*.")) {
        auto dot = host.find('.');
        return dot != std::string_view::npos && dot > 0 && boost::beast::iequals(pattern.substr(1), host.substr(dot));
    }
    return boost::beast::iequals(pattern, host);
}

// Switches the connection to the certificate for the name the client asked for.
int on_server_name(SSL* ssl_conn, int*, void* self) {
    const char* name = SSL_get_servername(ssl_conn, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;
    if (auto* ctx = static_cast<TlsContext*>(self)->for_server_name(name)) SSL_set_SSL_CTX(ssl_conn, ctx->native_handle());
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TlsContext::TlsContext(const TlsOptions& options, bool offer_h2)
    : main_(ssl::context::tls_server), offer_h2_(std::make_unique<bool>(offer_h2)) {
    configure(main_, options, options.certificate, "the default certificate", offer_h2_.get());
    for (const auto& [name, cert] : options.sni) {
        auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
        configure(*ctx, options, cert, "SNI name " + name, offer_h2_.get());
        by_name_.emplace_back(name, std::move(ctx));
    }
    if (!by_name_.empty()) {
        SSL_CTX_set_tlsext_servername_callback(main_.native_handle(), on_server_name);
        SSL_CTX_set_tlsext_servername_arg(main_.native_handle(), this);
    }
}

ssl::context* TlsContext::for_server_name(std::string_view host) noexcept {
    for (const auto& [pattern, ctx] : by_name_)
        if (name_matches(pattern, host)) return ctx.get();
    return nullptr;
}

}  // namespace spur::detail
