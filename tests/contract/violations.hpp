#pragma once
// Reading a ValidationError's answer in the contract tests.

#include <spur/testing/client.hpp>

#include <boost/json.hpp>

#include <string_view>

namespace spur::test {

/// The `details` of an error answer: one {in, path, rule, message} per problem.
inline boost::json::array details(const testing::Result& r) { return r.json().at("error").at("details").as_array(); }

/// Whether `d` lists a problem of `rule` at `path` within `in`.
inline bool has_violation(const boost::json::array& d, std::string_view in, std::string_view path, std::string_view rule) {
    for (const auto& v : d) {
        if (v.at("in").as_string() == in && v.at("path").as_string() == path && v.at("rule").as_string() == rule) return true;
    }
    return false;
}

}  // namespace spur::test
