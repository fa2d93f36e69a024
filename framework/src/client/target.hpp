#pragma once
// What a request is sent to and whether it can be sent: the URL split into scheme, host, port
// and target; methods, header names and values checked before a byte goes out.

#include <spur/http_client.hpp>

#include <string>
#include <string_view>

namespace spur::client {

// Where a URL points: scheme, host and port decide the pool; target is what the request line says.
struct Target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string target;
    std::string key;
};

// Throws HttpClientError(invalid_url) for anything but an absolute http(s) URL with a host.
Target parse_target(const std::string& url);

bool is_field_value(std::string_view s);

// Throws HttpClientError(invalid_request) naming the first header that cannot be sent.
void check_sendable(std::string_view method, const ClientHeaders& headers, std::string_view user_agent);

bool idempotent(std::string_view method);

bool redirect_status(int status);

}  // namespace spur::client
