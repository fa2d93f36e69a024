#pragma once
// spur::mysql::rows_as / one_as — rows read into Boost.Describe'd structs, member by column
// name. Pool and Connection offer them as query_as<T>(sql, args...) and query_one_as<T>(...).

#include <spur/mysql/result.hpp>
#include <spur/mysql/value.hpp>
#include <spur/task.hpp>

#include <boost/core/type_name.hpp>
#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spur {
// Declared, not included: <spur/types.hpp> brings spur::DateTime, which code saying `using
// namespace spur; using namespace spur::mysql;` would find beside spur::mysql::DateTime.
enum class StringFormat;
namespace detail {
class CompiledPattern;
}
}  // namespace spur

namespace spur::mysql {

/// The rows of `result` read into Ts: T is a struct described with BOOST_DESCRIBE_STRUCT, and
/// each of its public members takes the column of its own name (exact, case-sensitive; rename
/// a column with `AS`). The names are matched once, from the result's columns, before any row
/// is read — an empty result is checked too.
///
/// Member types: every integer type, bool (an integer column, nonzero = true), double, float,
/// std::string (text or blob), DateTime, std::chrono::system_clock::time_point, an enum
/// described with BOOST_DESCRIBE_ENUM (text holding an enumerator's name), spur::String,
/// spur::FormattedString (spur::Email, ...), spur::Int and spur::Number (checked against their
/// bounds as request validation checks them), and std::optional of any of these. An integer
/// member also takes text holding a whole number (a DECIMAL column); a floating-point one any
/// number, or text holding one.
///
/// Throws Error (number() 0), naming T and the column, when:
/// - the result has no column for a member (optional members included: std::optional means
///   NULL is allowed, not that the column may be left out of the SELECT) — "missing column";
/// - a column is taken by no member — "extra column"; or two columns share a name;
/// - the statement returned no result set (an INSERT, UPDATE, DELETE);
/// - a value does not fit its member: NULL into a member that is not std::optional, a type
///   that does not convert (text that is no number into an integer), a number out of the
///   member's range, a wrapper's constraint (length, pattern, format, bounds) — naming the
///   member and the row too.
template <class T>
std::vector<T> rows_as(const Result& result);

/// The only row of `result` as a T (see rows_as), or nullopt when there is none. Throws Error
/// as rows_as does, and when there are several rows: `LIMIT 1` says that the first will do.
template <class T>
std::optional<T> one_as(const Result& result);

namespace detail {

using TypeName = std::string (*)();

/// For each member name, the index of the column of that name. Throws Error naming every
/// missing and extra column, a duplicated column name, or a result that has no columns.
std::vector<std::size_t> map_columns(TypeName type, const Result& result, std::span<const char* const> members);
/// Throws Error: `column` of row `row` (from 1) does not fit `member`, because `problem`.
[[noreturn]] void misfit(TypeName type, std::size_t row, std::string_view column, std::string_view member,
                         std::string_view problem);
/// Throws Error: one_as found `rows` rows.
[[noreturn]] void too_many_rows(TypeName type, std::size_t rows);

// Leaf reads: each returns "" or what is wrong with `v` for that type ("it holds text, not an integer").
std::string read_value(const Value& v, std::int64_t& out);
std::string read_value(const Value& v, std::uint64_t& out);
std::string read_value(const Value& v, double& out);
std::string read_value(const Value& v, std::string& out);
std::string read_value(const Value& v, DateTime& out);
/// What is wrong with text that names none of an enum's enumerators (`names`, listed).
std::string unknown_enumerator(std::string_view names);

// The checks of spur's wrapper types, worded as request validation words them: "" or the violation.
// No __int128 across the library boundary: GCC and Clang disagree on passing it on the stack.
std::string range_problem(std::int64_t value, std::int64_t min, std::int64_t max);
std::string range_problem(std::uint64_t value, std::uint64_t min, std::uint64_t max);
std::string range_problem(double value, double min, double max);
std::string text_problem(std::string_view s, std::size_t min, std::size_t max, const spur::detail::CompiledPattern* pattern);
std::string format_problem(std::string_view s, StringFormat format);
/// The RE2 pattern, compiled once per wrapper type; throws std::invalid_argument if it cannot be.
std::shared_ptr<const spur::detail::CompiledPattern> compile_pattern(const char* pattern);

template <class T> struct is_optional_member : std::false_type {};
template <class T> struct is_optional_member<std::optional<T>> : std::true_type {};
// spur's wrappers (<spur/types.hpp>), known by their shape: String<Min, Max, Pattern>,
// FormattedString<F>, Int<Min, Max>, Number<Min, Max, Scale>.
template <class M>
concept string_wrapper = std::derived_from<M, std::string> && requires {
    M::min_length;
    M::max_length;
    M::pattern.c_str();
};
template <class M>
concept format_wrapper = std::derived_from<M, std::string> && requires {
    { M::format } -> std::convertible_to<StringFormat>;
};
template <class M>
concept int_wrapper = requires(M m) {
    M::minimum;
    M::maximum;
    { m.value } -> std::same_as<std::int64_t&>;
};
template <class M>
concept number_wrapper = requires(M m) {
    M::minimum;
    M::maximum;
    { m.value } -> std::same_as<double&>;
};

template <class W>
std::string check_string_wrapper(const W& s) {
    if constexpr (W::pattern.empty()) {
        return text_problem(s, W::min_length, W::max_length, nullptr);
    } else {
        static const auto pattern = compile_pattern(W::pattern.c_str());
        return text_problem(s, W::min_length, W::max_length, pattern.get());
    }
}

template <class E>
std::string read_enum(const Value& v, E& out) {
    std::string text;
    if (auto problem = read_value(v, text); !problem.empty()) return problem;
    if (boost::describe::enum_from_string(text.c_str(), out)) return {};
    std::string names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        names += names.empty() ? "" : ", ";
        names += d.name;
    });
    return unknown_enumerator(names);
}

/// Reads a value that is not NULL into `out`; returns "" or what is wrong.
template <class M>
std::string read_present(const Value& v, M& out) {
    if constexpr (std::is_same_v<M, bool>) {
        std::int64_t i = 0;
        auto problem = read_value(v, i);
        out = i != 0;
        return problem;
    } else if constexpr (std::is_integral_v<M> && std::is_signed_v<M>) {
        std::int64_t i = 0;
        if (auto problem = read_value(v, i); !problem.empty()) return problem;
        out = static_cast<M>(i);
        return range_problem(i, std::int64_t{std::numeric_limits<M>::min()}, std::int64_t{std::numeric_limits<M>::max()});
    } else if constexpr (std::is_integral_v<M>) {
        std::uint64_t u = 0;
        if (auto problem = read_value(v, u); !problem.empty()) return problem;
        out = static_cast<M>(u);
        return range_problem(u, std::uint64_t{0}, std::uint64_t{std::numeric_limits<M>::max()});
    } else if constexpr (std::is_floating_point_v<M>) {
        double d = 0;
        auto problem = read_value(v, d);
        out = static_cast<M>(d);
        return problem;
    } else if constexpr (int_wrapper<M>) {
        if (auto problem = read_value(v, out.value); !problem.empty()) return problem;
        return range_problem(out.value, std::int64_t{M::minimum}, std::int64_t{M::maximum});
    } else if constexpr (number_wrapper<M>) {
        if (auto problem = read_value(v, out.value); !problem.empty()) return problem;
        return range_problem(out.value, M::minimum, M::maximum);
    } else if constexpr (string_wrapper<M>) {
        if (auto problem = read_value(v, static_cast<std::string&>(out)); !problem.empty()) return problem;
        return check_string_wrapper(out);
    } else if constexpr (format_wrapper<M>) {
        if (auto problem = read_value(v, static_cast<std::string&>(out)); !problem.empty()) return problem;
        return format_problem(out, M::format);
    } else if constexpr (std::is_same_v<M, std::string> || std::is_same_v<M, DateTime>) {
        return read_value(v, out);
    } else if constexpr (std::is_same_v<M, std::chrono::system_clock::time_point>) {
        DateTime d;
        auto problem = read_value(v, d);
        if (problem.empty()) out = d.to_time_point();
        return problem;
    } else if constexpr (std::is_enum_v<M> && boost::describe::has_describe_enumerators<M>::value) {
        return read_enum(v, out);
    } else {
        static_assert(sizeof(M) == 0, "rows_as/query_as: unsupported member type (see <spur/mysql/rows.hpp>)");
    }
}

/// Reads a column value into a member; returns "" or what is wrong.
template <class M>
std::string read_member(const Value& v, M& out) {
    if constexpr (is_optional_member<M>::value) {
        if (v.is_null()) {
            out.reset();
            return {};
        }
        return read_present(v, out.emplace());
    } else {
        if (v.is_null()) return "it is NULL, and the member is not a std::optional";
        return read_present(v, out);
    }
}

template <class T>
std::string type_name() {
    return boost::core::type_name<T>();
}

template <class T>
Task<std::vector<T>> await_rows(Task<Result> statement) {
    const Result result = co_await std::move(statement);
    co_return rows_as<T>(result);
}

template <class T>
Task<std::optional<T>> await_one(Task<Result> statement) {
    const Result result = co_await std::move(statement);
    co_return one_as<T>(result);
}

}  // namespace detail

template <class T>
std::vector<T> rows_as(const Result& result) {
    static_assert(std::is_class_v<T> && boost::describe::has_describe_members<T>::value,
                  "rows_as/query_as<T>: describe T with BOOST_DESCRIBE_STRUCT");
    static_assert(std::is_default_constructible_v<T>, "rows_as/query_as<T>: T must be default-constructible");
    using Members = boost::describe::describe_members<T, boost::describe::mod_public>;
    std::array<const char*, boost::mp11::mp_size<Members>::value> names{};
    std::size_t k = 0;
    boost::mp11::mp_for_each<Members>([&](auto d) { names[k++] = d.name; });
    // Checked once for the statement: every row has the same columns.
    const std::vector<std::size_t> index = detail::map_columns(&detail::type_name<T>, result, names);

    std::vector<T> out;
    out.reserve(result.size());
    for (const Row& row : result) {
        T& item = out.emplace_back();
        k = 0;
        boost::mp11::mp_for_each<Members>([&](auto d) {
            const std::size_t column = index[k++];
            auto problem = detail::read_member(row[column], item.*d.pointer);
            if (!problem.empty())
                detail::misfit(&detail::type_name<T>, out.size(), (*result.columns)[column], d.name, problem);
        });
    }
    return out;
}

template <class T>
std::optional<T> one_as(const Result& result) {
    if (result.size() > 1) {
        rows_as<T>(Result{{}, result.columns});  // a mismatch of columns says more than a count
        detail::too_many_rows(&detail::type_name<T>, result.size());
    }
    auto rows = rows_as<T>(result);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

}  // namespace spur::mysql
