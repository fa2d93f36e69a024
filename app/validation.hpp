#pragma once
// The checks spur-app's types cannot express: an e-mail address is canonicalised before it is
// checked, so the same account is found however it was typed; text free of control characters.

#include <spur/validation_error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace app {

/// The one canonical form of an e-mail address, used to register, to log in and to key the
/// login throttle: surrounding white space trimmed, ASCII letters lower-cased. No validation.
std::string canonical_email(std::string_view email);
/// canonical_email() of a plausible e-mail address, or a spur::ValidationError for /email.
std::string normalized_email(std::string_view email);
/// Adds a violation (rule "pattern", at `/field` of the body) when `value` holds a C0 control
/// character other than tab, LF and CR: JSON escapes those as \u00XX, six bytes for one, and a
/// text must not grow past twice its size on the way out (only `"` and `\` double).
void check_no_control_characters(std::string_view value, std::string_view field, std::vector<spur::Violation>& problems);

}  // namespace app
