#pragma once
// spur::middleware::urlencoded — parse application/x-www-form-urlencoded bodies into spur::form_data().

#include <spur/form_data.hpp>
#include <spur/handler.hpp>

#include <cstddef>

namespace spur::middleware {

/// Options of urlencoded().
struct UrlencodedOptions {
    std::size_t limit = 1024 * 1024;  ///< larger bodies -> 413
    std::size_t max_fields = 1000;    ///< more fields -> 413 (like qs's parameterLimit)
};

/// Parses form bodies (`a=1&b=x+y`) so handlers read `spur::form_data(req)->field("a")`.
/// Requests of other content types pass untouched, so parsers can be stacked.
Middleware urlencoded(UrlencodedOptions options = {});

}  // namespace spur::middleware
