#pragma once
// spur::detail::JsonOut — JSON text appended to a string as a typed value is walked, without
// building a boost::json::value first: what Response::json(typed) sends. Its output is byte
// for byte what boost::json::serialize gives for the value Contract<T>::write builds (the
// same escapes, the same number formats), so the two paths never disagree.

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace spur::detail {

class JsonOut {
public:
    explicit JsonOut(std::string& out) noexcept : out_(out) {}

    /// Punctuation, or a member name that needs no escaping (a C++ identifier).
    void raw(std::string_view text) { out_.append(text); }
    /// `text` as a JSON string: quoted, with `"`, `\` and control characters escaped as
    /// Boost.JSON escapes them; other bytes, UTF-8 or not, copied as they are.
    void string(std::string_view text);
    void number(std::int64_t n);
    void number(std::uint64_t n);
    /// Formatted by Boost.JSON's serializer, as serialize() formats it.
    void number(double d);
    /// Any value, as serialize() writes it.
    void value(const boost::json::value& v);

private:
    std::string& out_;
};

}  // namespace spur::detail
