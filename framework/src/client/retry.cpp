#include "client/retry.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>
#include <string>

namespace spur::client {

bool may_repeat(std::string_view method, const ClientHeaders& headers) {
    if (method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" || method == "TRACE")
        return true;
    return std::any_of(headers.begin(), headers.end(), [](const auto& h) {
        return boost::beast::iequals(h.first, "Idempotency-Key") && !h.second.empty();
    });
}

bool retryable_failure(HttpClientError::Kind kind) noexcept {
    using Kind = HttpClientError::Kind;
    return kind == Kind::connect || kind == Kind::timeout || kind == Kind::protocol;
}

bool retryable_status(const RetryPolicy& policy, int status) noexcept {
    return std::find(policy.statuses.begin(), policy.statuses.end(), status) != policy.statuses.end();
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt) {
    using std::chrono::milliseconds;
    auto wait = std::max(policy.initial_backoff, milliseconds(1));
    for (int i = 1; i < attempt && wait < policy.max_backoff; ++i) wait *= 2;
    wait = std::min(wait, std::max(policy.max_backoff, milliseconds(1)));
    // Not a secret, only a spread: a generator seeded once per wait is plenty.
    std::minstd_rand random(std::random_device{}());
    std::uniform_int_distribution<long long> spread(wait.count() / 2, wait.count());
    return milliseconds(spread(random));
}

std::optional<std::chrono::milliseconds> retry_after(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        unsigned long long seconds = 0;
        const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        (void)ptr;
        // Too large to represent is as good as "too long to wait".
        if (ec != std::errc{} || seconds > 86'400ULL * 365) return std::chrono::hours(24 * 365);
        return std::chrono::seconds(seconds);
    }
    // IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section 5.6.7).
    std::tm tm{};
    const std::string text(value);
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    // In seconds of time_t: a date past 2262 does not fit system_clock's nanoseconds, and
    // would wrap into the past (a wait of zero) instead of being too long to wait for.
    const std::time_t at = ::timegm(&tm);
    const std::time_t now = std::time(nullptr);
    if (at <= now) return std::chrono::milliseconds(0);
    const auto seconds = static_cast<unsigned long long>(at - now);
    if (seconds > 86'400ULL * 365) return std::chrono::hours(24 * 365);
    return std::chrono::seconds(seconds);
}

}  // namespace spur::client
