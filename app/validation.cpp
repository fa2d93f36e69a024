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

void check_no_control_characters(std::string_view value, std::string_view field, std::vector<spur::Violation>& problems) {
    for (unsigned char c : value) {
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            problems.push_back({"body", "/" + std::string(field), "pattern",
                                std::string(field) + " must not contain control characters other than tab, line feed and carriage return"});
            return;
        }
    }
}

}  // namespace app
