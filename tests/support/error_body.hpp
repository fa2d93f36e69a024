#pragma once
// Error bodies carry the request's id (random unless the client sent X-Request-Id) and its
// trace id (random unless the client sent a traceparent): tests comparing a whole body check
// that they are there and compare the rest.

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include "support/text_shape.hpp"

#include <string_view>

namespace spur::test {

/// `body` without the request's ids: error.request_id, after checking that it is a non-empty
/// string, and error.trace_id, after checking that it is a trace id.
inline boost::json::value without_request_id(boost::json::value body) {
    auto* error = body.is_object() ? body.as_object().if_contains("error") : nullptr;
    REQUIRE(error);
    REQUIRE(error->is_object());
    const auto* id = error->as_object().if_contains("request_id");
    REQUIRE(id);
    REQUIRE(id->is_string());
    CHECK_FALSE(id->as_string().empty());
    const auto* trace = error->as_object().if_contains("trace_id");
    REQUIRE(trace);
    REQUIRE(trace->is_string());
    CHECK(is_trace_id(trace->as_string()));
    error->as_object().erase("request_id");
    error->as_object().erase("trace_id");
    return body;
}
inline boost::json::value without_request_id(std::string_view body) { return without_request_id(boost::json::parse(body)); }

}  // namespace spur::test
