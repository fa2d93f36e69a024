#pragma once
// spur::TlsOptions — HTTPS for Server: certificate and key, SNI, handshake timeout.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace spur {

/// A certificate chain and its private key, as PEM files or PEM text (text wins if both are set).
struct TlsCertificate {
    std::string cert_chain_file;   ///< leaf first, then intermediates
    std::string private_key_file;  ///< unencrypted PEM key
    std::string cert_chain_pem;
    std::string private_key_pem;
};

/// Serving HTTPS. Only TLS 1.2 and 1.3 are offered, TLS 1.2 with forward-secret AEAD ciphers
/// only (Mozilla's "intermediate" list); ALPN selects `h2` for a client that asks for it
/// (ServerOptions::http2.tls), else `http/1.1`.
struct TlsOptions {
    TlsCertificate certificate;
    /// Further certificates chosen by the client's SNI host name ("api.example.com" or
    /// "*.example.com"); other names get `certificate`.
    std::vector<std::pair<std::string, TlsCertificate>> sni;
    unsigned short port = 3443;  ///< 0 picks a free port; see Server::tls_port()
    /// A client that has not finished the handshake by then is dropped.
    std::chrono::milliseconds handshake_timeout{10'000};
    /// TLS 1.2 cipher list in OpenSSL syntax (TLS 1.3 suites are OpenSSL's defaults).
    std::string ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
};

}  // namespace spur
