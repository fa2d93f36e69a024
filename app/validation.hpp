#pragma once
// The checks spur-app's types cannot express: an e-mail address is canonicalised before it is
// checked, so the same account is found however it was typed.

#include <string>
#include <string_view>

namespace app {

/// The one canonical form of an e-mail address, used to register, to log in and to key the
/// login throttle: surrounding white space trimmed, ASCII letters lower-cased. No validation.
std::string canonical_email(std::string_view email);
/// canonical_email() of a plausible e-mail address, or a spur::ValidationError for /email.
std::string normalized_email(std::string_view email);

}  // namespace app
