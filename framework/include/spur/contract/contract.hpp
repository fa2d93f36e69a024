#pragma once
// Typed contracts: describe a struct once (BOOST_DESCRIBE_STRUCT) and spur parses it from
// requests, validates it listing every problem, writes it as JSON, and documents it (OpenAPI).
//
//     struct TextIn { spur::String<1, 255> title; std::optional<std::string> content; };
//     BOOST_DESCRIBE_STRUCT(TextIn, (), (title, content))
//     app.post("/texts", [](spur::Request&, spur::Response& res, spur::Body<TextIn> in) {...});
//
// Supported member types: bool; integers (range of the type enforced); double/float (finite);
// std::string; spur::String/Int/Number/List/Email/Uuid/DateTime/Uri (types.hpp); described
// enums (as their names); std::optional<T> (the member may be absent or null — both read as
// nullopt, and nullopt is written as null); std::vector<T>; std::map<std::string, T>; nested
// described structs; boost::json::value (anything, unchecked).

#include <spur/contract/form.hpp>
#include <spur/detail/contract_types.hpp>
#include <spur/detail/typed_handler.hpp>
#include <spur/handler.hpp>
#include <spur/inputs.hpp>
#include <spur/types.hpp>
#include <spur/validation_error.hpp>

#include <boost/json/value.hpp>

namespace spur {

/// A value (described struct, vector, optional, constrained type, …) as JSON, exactly as
/// its schema in the OpenAPI document describes it.
template <class T>
boost::json::value to_json(const T& value) {
    return detail::Contract<T>::write(value);
}

/// The same value as JSON text, appended to `out` without building a boost::json::value:
/// byte for byte what serialising to_json(value) gives.
template <class T>
void write_json(std::string& out, const T& value) {
    detail::JsonOut o(out);
    detail::Contract<T>::emit(o, value);
}

}  // namespace spur
