#pragma once
// Where the body parsers keep the parsed form in Request::locals().
#include <string_view>
namespace spur::detail {
inline constexpr std::string_view form_locals_key = "spur.form";
}  // namespace spur::detail
