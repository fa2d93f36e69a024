#include <spur/mysql/config.hpp>

#include "util/url.hpp"

#include <charconv>
#include <stdexcept>

namespace spur::mysql {

namespace {
std::string decode(std::string_view s) {
    auto d = spur::detail::percent_decode(s);
    if (!d) throw std::invalid_argument("malformed percent-encoding in database URL");
    return *d;
}

template <class T>
T number(std::string_view key, std::string_view v) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size())
        throw std::invalid_argument("database URL parameter " + std::string(key) + " is not a number");
    return out;
}
// "host", "host:port" or "[::1]:port" (an IPv6 literal goes to Connector/C without brackets).
Host parse_host(std::string_view s) {
    if (s.empty()) throw std::invalid_argument("database URL has an empty host");
    Host h;
    if (s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("database URL: unclosed '[' in host");
        h.host = std::string(s.substr(1, close - 1));
        s.remove_prefix(close + 1);
        if (s.empty()) return h;
        if (s.front() != ':') throw std::invalid_argument("database URL: unexpected text after ']'");
        h.port = number<unsigned short>("port", s.substr(1));
        return h;
    }
    auto colon = s.rfind(':');
    if (colon != std::string_view::npos) {
        h.port = number<unsigned short>("port", s.substr(colon + 1));
        s = s.substr(0, colon);
    }
    h.host = std::string(s);
    return h;
}
}  // namespace

std::vector<Host> hosts_of(const Config& config) {
    if (!config.hosts.empty()) return config.hosts;
    return {Host{config.host, config.port}};
}

Config parse_url(const char* url) {
    if (!url) throw std::invalid_argument("no database URL (the variable is not set)");
    return parse_url(std::string_view(url));
}

Config parse_url(std::string_view url) {
    if (url.substr(0, 8) == "mysql://") url.remove_prefix(8);
    else if (url.substr(0, 10) == "mariadb://") url.remove_prefix(10);
    else throw std::invalid_argument("database URL must start with mysql:// or mariadb://");
    Config c;
    auto query_pos = url.find('?');
    std::string_view query = query_pos == std::string_view::npos ? std::string_view{} : url.substr(query_pos + 1);
    url = url.substr(0, query_pos);
    auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) c.database = decode(url.substr(slash + 1));
    auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        auto userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        auto colon = userinfo.find(':');
        c.user = decode(userinfo.substr(0, colon));
        if (colon != std::string_view::npos) c.password = decode(userinfo.substr(colon + 1));
    }
    if (!authority.empty()) {
        std::vector<Host> hosts;
        for (std::size_t start = 0;;) {
            auto comma = authority.find(',', start);
            hosts.push_back(parse_host(authority.substr(start, comma == std::string_view::npos ? comma : comma - start)));
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        c.host = hosts.front().host;
        c.port = hosts.front().port;
        if (hosts.size() > 1) c.hosts = std::move(hosts);
    }
    for (const auto& [key, value] : spur::detail::parse_query(query)) {
        using ms = std::chrono::milliseconds;
        if (key == "socket") c.socket = value;
        else if (key == "pool_min") c.pool_min = number<std::size_t>(key, value);
        else if (key == "pool_max") c.pool_max = number<std::size_t>(key, value);
        else if (key == "acquire_timeout_ms") c.acquire_timeout = ms(number<long>(key, value));
        else if (key == "connect_timeout_ms") c.connect_timeout = ms(number<long>(key, value));
        else if (key == "query_timeout_ms") c.query_timeout = ms(number<long>(key, value));
        else if (key == "idle_timeout_ms") c.idle_timeout = ms(number<long>(key, value));
        else if (key == "max_lifetime_ms") c.max_lifetime = ms(number<long>(key, value));
        else if (key == "validate_after_ms") c.validate_after = ms(number<long>(key, value));
        else if (key == "statement_cache") c.statement_cache = number<std::size_t>(key, value);
        else if (key == "max_statement_time_ms") c.max_statement_time = ms(number<long>(key, value));
        else if (key == "multi_statements") c.multi_statements = number<int>(key, value) != 0;
        else if (key == "causal_reads") c.causal_reads = number<int>(key, value) != 0;
        else if (key == "host_cooldown_ms") c.host_cooldown = ms(number<long>(key, value));
        else if (key == "host_order") {
            if (value == "first_available") c.host_order = HostOrder::first_available;
            else if (value == "round_robin") c.host_order = HostOrder::round_robin;
            else throw std::invalid_argument("database URL: host_order must be first_available or round_robin");
        }
        else if (key == "drain_threshold_ms") c.drain_threshold = ms(number<long>(key, value));
        else if (key == "kill_queue") c.kill_queue = number<std::size_t>(key, value);
        else if (key == "transaction_attempts") c.transaction_attempts = number<unsigned>(key, value);
        else throw std::invalid_argument("unknown database URL parameter: " + key);
    }
    if (c.pool_max == 0 || c.pool_min > c.pool_max) throw std::invalid_argument("database URL: need 0 <= pool_min <= pool_max, pool_max > 0");
    return c;
}

}  // namespace spur::mysql
