#include "validation.hpp"

#include <spur/strings.hpp>
#include <spur/validation_error.hpp>

namespace app {

std::string canonical_email(std::string_view email) {
    std::string e(spur::trim(email));
    for (auto& ch : e)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return e;
}

std::string normalized_email(std::string_view email) {
    std::string e = canonical_email(email);
    const auto at = e.find('@');
    const bool ok = !e.empty() && e.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
                    e.find('@', at + 1) == std::string::npos && e.find('.', at + 2) != std::string::npos &&
                    e.back() != '.' && e.find_first_of(" \t\r\n\"(),:;<>[\\]") == std::string::npos;
    if (!ok) throw spur::ValidationError({{"body", "/email", "format", "email must be a valid e-mail address"}});
    return e;
}

}  // namespace app
