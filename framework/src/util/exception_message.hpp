#pragma once
// One way to turn whatever was thrown into a line for the log.

#include <exception>
#include <string>

namespace spur::detail {

/// what() of a std::exception, "non-standard exception" for anything else thrown.
inline std::string exception_message(std::exception_ptr failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "non-standard exception";
    }
}

}  // namespace spur::detail
