#pragma once
// The non-template half of typed contracts (contract.cpp): the walk that records violations
// with JSON pointers, leaf checks, and the registry of named schemas.

#include <spur/types.hpp>
#include <spur/validation_error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spur::detail {

/// Where a validation is in the input, and what it found wrong so far. Keeps at most
/// `max_violations` (a list of 10,000 bad items answers with the first hundred).
class Walk {
public:
    static constexpr std::size_t max_violations = 100;

    explicit Walk(std::string in) : in_(std::move(in)) {}

    /// Descends into a member or an item; leave() goes back up.
    void enter(std::string_view key);
    void enter(std::size_t index);
    void leave();
    /// Records a violation of `rule` at the current path: "<field> " + `what`.
    void fail(std::string_view rule, std::string_view what);
    /// Whether enough violations are recorded to stop looking.
    bool full() const noexcept { return violations_.size() >= max_violations; }
    bool ok() const noexcept { return violations_.empty(); }
    std::vector<Violation>& violations() noexcept { return violations_; }
    /// Starts on another part of the request ("query", "body"), keeping what was found.
    void switch_to(std::string in) { in_ = std::move(in); }

private:
    std::string in_;
    std::string path_;
    std::vector<std::size_t> marks_;
    std::vector<Violation> violations_;
};

/// The number of Unicode code points in `s`, or nullopt if it is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s) noexcept;

/// A JSON integer (or a number with no fraction) as a 128-bit value; nullopt otherwise.
std::optional<__int128> json_integer(const boost::json::value& v) noexcept;
/// A decimal integer written as text ("-12"); nullopt otherwise.
std::optional<__int128> text_integer(std::string_view s) noexcept;
/// A decimal number written as text; nullopt if it is not one or not finite.
std::optional<double> text_number(std::string_view s) noexcept;
/// "true"/"1" and "false"/"0"; nullopt otherwise.
std::optional<bool> text_bool(std::string_view s) noexcept;

/// A regular expression compiled once, in RE2's syntax, and searched as JSON Schema's
/// `pattern` is (unanchored). Matching takes time linear in the input, whatever the pattern.
class CompiledPattern {
public:
    /// Throws std::invalid_argument naming the pattern and RE2's reason when RE2 cannot compile
    /// it: a syntax error, or a construct that needs backtracking (backreferences, lookaround).
    explicit CompiledPattern(const char* pattern);
    ~CompiledPattern();
    CompiledPattern(const CompiledPattern&) = delete;
    CompiledPattern& operator=(const CompiledPattern&) = delete;
    bool search(std::string_view s) const;
    const char* text() const noexcept { return text_; }

private:
    struct Impl;
    const char* text_;
    std::unique_ptr<Impl> impl_;
};

/// Checks a value against integer bounds, recording "minimum"/"maximum".
void check_range(__int128 value, __int128 min, __int128 max, Walk& walk);
void check_range(double value, double min, double max, Walk& walk);
/// Checks a string's length in code points (recording "minLength"/"maxLength") and, when
/// `pattern` is given and the length is within bounds, that it matches ("pattern").
void check_string(std::string_view s, std::size_t min, std::size_t max, const CompiledPattern* pattern, Walk& walk);

/// Checks a string against a format, recording "format".
void check_format(std::string_view s, StringFormat format, Walk& walk);

/// The schema of a string with these bounds and pattern.
boost::json::value string_schema(std::size_t min, std::size_t max, const char* pattern);
/// The schema of an integer with these bounds (the int64 extremes are left unsaid).
boost::json::value integer_schema(__int128 min, __int128 max);
boost::json::value number_schema(double min, double max);
boost::json::value format_schema(StringFormat format);
/// {"anyOf":[schema,{"type":"null"}]}, or the type list widened when that is simpler.
boost::json::value nullable(boost::json::value schema);

/// Named schemas (#/components/schemas/…) built while documenting the routes.
class SchemaRegistry {
public:
    using Build = boost::json::value (*)(SchemaRegistry&);
    /// {"$ref":"#/components/schemas/<name>"} for the type identified by `key`, building its
    /// schema with `build` the first time. `type_name` is the C++ name; its last component
    /// names the schema (made unique when two types share it).
    boost::json::value reference(const void* key, std::string_view type_name, Build build);
    /// Adds a hand-written schema under `name` (e.g. the error envelope).
    void define(std::string name, boost::json::value schema);
    /// Every schema registered so far, by name.
    const boost::json::object& components() const noexcept { return components_; }

private:
    std::vector<std::pair<const void*, std::string>> names_;
    boost::json::object components_;
};

/// The message of a ValidationError: the first few violations, joined.
std::string summarize(const std::vector<Violation>& violations);

}  // namespace spur::detail
