#pragma once
// spur::ValidationError — every problem found in a request's typed inputs, answered at once.

#include <spur/http_error.hpp>

#include <string>
#include <vector>

namespace spur {

/// One problem with one field of a request.
struct Violation {
    std::string in;       ///< "body", "query", "path", "header", "cookie" or "form"
    std::string path;     ///< JSON pointer to the field within `in`: "/items/0/title" ("" = the whole body)
    std::string rule;     ///< the JSON Schema keyword that failed: "required", "maxLength", "type", ...
    std::string message;  ///< for a person: "title must be at most 255 characters"
};

/// Thrown by typed inputs (spur::Body, Query, Header, Cookie, Form) and by handlers for checks a type cannot
/// express. Answered with AppOptions::validation_status (422 unless configured) and
/// `{"success":false,"error":{"code":"validation_error","message":…,"details":[{in,path,rule,message}…]}}`.
class ValidationError : public HttpError {
public:
    /// Throws std::invalid_argument if `violations` is empty.
    explicit ValidationError(std::vector<Violation> violations);
    /// The problems, in the order they were found.
    const std::vector<Violation>& violations() const noexcept { return violations_; }

private:
    std::vector<Violation> violations_;
};

}  // namespace spur
