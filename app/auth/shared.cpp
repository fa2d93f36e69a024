#include "auth/shared.hpp"

#include "validation.hpp"

#include <spur/validation_error.hpp>

#include <algorithm>
#include <vector>

namespace app::auth {

UserOut user_out(const User& u) {
    return {u.id, u.email, u.name, u.created_at.to_iso8601(), u.email_verified_at.has_value()};
}

spur::HttpError too_many_requests(std::chrono::seconds retry, std::string message) {
    spur::HttpError e(429, "too_many_requests", std::move(message));
    e.with_header("Retry-After", std::to_string(std::max<long long>(1, retry.count())));
    return e;
}

std::string mailable_email(std::string_view email) {
    std::string e = normalized_email(email);
    const bool ascii = std::all_of(e.begin(), e.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!ascii)
        throw spur::ValidationError({{"body", "/email", "pattern",
                                      "email must be printable ASCII: mail cannot be sent to other addresses"}});
    return e;
}

void check_password_bytes(const std::string& pw, const char* field) {
    std::vector<spur::Violation> problems;
    if (pw.size() > 72) problems.push_back({"body", std::string("/") + field, "maxBytes", std::string(field) + " must be at most 72 bytes"});
    if (pw.find('\0') != std::string::npos)
        problems.push_back({"body", std::string("/") + field, "pattern", std::string(field) + " must not contain NUL bytes"});
    if (!problems.empty()) throw spur::ValidationError(std::move(problems));
}

}  // namespace app::auth
