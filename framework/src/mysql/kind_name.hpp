#pragma once
// How an error names what a column value holds ("an integer", "NULL", ...).

#include <spur/mysql/value.hpp>

namespace spur::mysql::detail {

const char* kind_name(Value::Kind k) noexcept;

}  // namespace spur::mysql::detail
