#include <spur/mysql/rows.hpp>

#include <spur/detail/contract_walk.hpp>
#include <spur/mysql/error.hpp>

#include "mysql/kind_name.hpp"

#include <fmt/core.h>

#include <charconv>
#include <limits>

namespace spur::mysql::detail {

namespace {

std::string holds(const Value& v, const char* wanted) {
    return fmt::format("it holds {}, not {}", kind_name(v.kind()), wanted);
}

std::string quoted_list(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", n);
    return out;
}

std::string plain_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// The first violation a wrapper's check recorded, as request validation words it ("the value
// must be at most 5 characters"): the same rules, the same words.
std::string first_violation(spur::detail::Walk& walk) {
    return walk.ok() ? std::string() : std::move(walk.violations().front().message);
}

}  // namespace

std::vector<std::size_t> map_columns(TypeName type, const Result& result, std::span<const char* const> members) {
    if (!result.columns)
        throw Error(0, "HY000", fmt::format("reading rows as {}: the statement returned no result set", type()));
    const auto& columns = *result.columns;
    // A handful of members and columns: a nested scan beats building a map.
    for (std::size_t i = 0; i < columns.size(); ++i)
        for (std::size_t j = i + 1; j < columns.size(); ++j)
            if (columns[i] == columns[j])
                throw Error(0, "HY000", fmt::format("reading rows as {}: the result has two columns named '{}' "
                                                    "(rename one with AS)", type(), columns[i]));
    std::vector<std::size_t> index(members.size());
    std::vector<bool> taken(columns.size());
    std::vector<std::string_view> missing, extra;
    for (std::size_t m = 0; m < members.size(); ++m) {
        std::size_t c = 0;
        while (c < columns.size() && columns[c] != members[m]) ++c;
        if (c == columns.size()) {
            missing.push_back(members[m]);
        } else {
            index[m] = c;
            taken[c] = true;
        }
    }
    for (std::size_t c = 0; c < columns.size(); ++c)
        if (!taken[c]) extra.push_back(columns[c]);
    if (missing.empty() && extra.empty()) return index;

    std::string problem;
    if (!missing.empty())
        problem = fmt::format("missing column{} {} (no column for the member{} of that name)",
                              missing.size() > 1 ? "s" : "", quoted_list(missing), missing.size() > 1 ? "s" : "");
    if (!extra.empty())
        problem += fmt::format("{}extra column{} {} (no member takes {})", problem.empty() ? "" : "; ",
                               extra.size() > 1 ? "s" : "", quoted_list(extra), extra.size() > 1 ? "them" : "it");
    throw Error(0, "HY000", fmt::format("reading rows as {}: {}; the result's columns are: {}", type(), problem,
                                        plain_list(columns)));
}

void misfit(TypeName type, std::size_t row, std::string_view column, std::string_view member, std::string_view problem) {
    throw Error(0, "HY000", fmt::format("reading rows as {}: column '{}' of row {} does not fit member '{}': {}", type(),
                                        column, row, member, problem));
}

void too_many_rows(TypeName type, std::size_t rows) {
    throw Error(0, "HY000", fmt::format("reading one row as {}: the statement returned {} rows (add LIMIT 1 if the "
                                        "first will do)", type(), rows));
}

std::string read_value(const Value& v, std::int64_t& out) {
    switch (v.kind()) {
        case Value::Kind::int64: out = v.as_int64(); return {};
        case Value::Kind::uint64:
            if (v.as_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return "it holds an integer too large for a signed 64-bit member";
            out = static_cast<std::int64_t>(v.as_uint64());
            return {};
        case Value::Kind::text: {
            // DECIMAL columns arrive as text: a whole number in it reads as one.
            auto s = v.as_string();
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            if (ec == std::errc() && end == s.data() + s.size()) return {};
            return "it holds text that is not an integer (or is out of range)";
        }
        default: return holds(v, "an integer");
    }
}

std::string read_value(const Value& v, std::uint64_t& out) {
    switch (v.kind()) {
        case Value::Kind::uint64: out = v.as_uint64(); return {};
        case Value::Kind::int64:
            if (v.as_int64() < 0) return "it holds a negative integer, and the member is unsigned";
            out = static_cast<std::uint64_t>(v.as_int64());
            return {};
        case Value::Kind::text: {
            auto s = v.as_string();
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            if (ec == std::errc() && end == s.data() + s.size()) return {};
            return "it holds text that is not an unsigned integer (or is out of range)";
        }
        default: return holds(v, "an integer");
    }
}

std::string read_value(const Value& v, double& out) {
    switch (v.kind()) {
        case Value::Kind::double_:
        case Value::Kind::int64:
        case Value::Kind::uint64: out = v.as_double(); return {};
        case Value::Kind::text: {
            auto s = v.as_string();
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            if (ec == std::errc() && end == s.data() + s.size()) return {};
            return "it holds text that is not a number";
        }
        default: return holds(v, "a number");
    }
}

std::string read_value(const Value& v, std::string& out) {
    if (v.kind() != Value::Kind::text && v.kind() != Value::Kind::blob) return holds(v, "text");
    out = v.as_string();
    return {};
}

std::string read_value(const Value& v, DateTime& out) {
    if (v.kind() != Value::Kind::datetime) return holds(v, "a date-time");
    out = v.as_datetime();
    return {};
}

std::string unknown_enumerator(std::string_view names) {
    return fmt::format("it holds text that names none of the enumerators ({})", names);
}

std::string range_problem(std::int64_t value, std::int64_t min, std::int64_t max) {
    if (value >= min && value <= max) return {};
    spur::detail::Walk walk("the value");
    spur::detail::check_range(__int128{value}, __int128{min}, __int128{max}, walk);
    return first_violation(walk);
}

std::string range_problem(std::uint64_t value, std::uint64_t min, std::uint64_t max) {
    if (value >= min && value <= max) return {};
    spur::detail::Walk walk("the value");
    spur::detail::check_range(__int128{value}, __int128{min}, __int128{max}, walk);
    return first_violation(walk);
}

std::string range_problem(double value, double min, double max) {
    if (value >= min && value <= max) return {};
    spur::detail::Walk walk("the value");
    spur::detail::check_range(value, min, max, walk);
    return first_violation(walk);
}

std::string text_problem(std::string_view s, std::size_t min, std::size_t max,
                         const spur::detail::CompiledPattern* pattern) {
    spur::detail::Walk walk("the value");
    if (!spur::detail::utf8_length(s)) return "it holds text that is not valid UTF-8";
    spur::detail::check_string(s, min, max, pattern, walk);
    return first_violation(walk);
}

std::string format_problem(std::string_view s, StringFormat format) {
    if (matches_format(s, format)) return {};
    spur::detail::Walk walk("the value");
    spur::detail::check_format(s, format, walk);
    return first_violation(walk);
}

std::shared_ptr<const spur::detail::CompiledPattern> compile_pattern(const char* pattern) {
    return std::make_shared<const spur::detail::CompiledPattern>(pattern);
}

}  // namespace spur::mysql::detail
