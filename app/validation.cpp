#include "validation.hpp"

#include <spur/strings.hpp>
#include <spur/types.hpp>
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
    if (!spur::matches_format(e, spur::StringFormat::email))
        throw spur::ValidationError({{"body", "/email", "format", "email must be a valid e-mail address"}});
    return e;
}

}  // namespace app
