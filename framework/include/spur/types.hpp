#pragma once
// spur's constrained value types for typed requests: strings, numbers and lists whose bounds
// drive both validation and the OpenAPI schema.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur {

/// A string literal usable as a template argument: `spur::String<1, 40, "^[a-z]+$">`.
template <std::size_t N>
struct Literal {
    char text[N]{};
    constexpr Literal(const char (&s)[N]) { std::copy_n(s, N, text); }  // NOLINT: implicit by design
    constexpr bool empty() const noexcept { return N <= 1; }
    constexpr const char* c_str() const noexcept { return text; }
};

/// A string of Min..Max characters (Unicode code points, not bytes), optionally matching
/// `Pattern`, searched as JSON Schema does (anchor it with ^…$ to match the whole string).
/// The pattern is RE2 syntax (github.com/google/re2/wiki/Syntax), matched in time linear in
/// the input, and only once the length is within Min..Max. Keep to the part RE2 shares with
/// ECMA-262 (OpenAPI's `pattern`) so clients read it alike: literals, `.`, classes `[a-z]`,
/// `\d \w` (ASCII in both), `^ $`, groups, `|`, `* + ? {n,m}` (m ≤ 1000). A pattern RE2 cannot
/// compile (backreferences, lookaround, a syntax error) throws std::invalid_argument when a
/// handler taking it is registered. Behaves as the std::string it derives from.
template <std::size_t Min = 0, std::size_t Max = std::numeric_limits<std::size_t>::max(), Literal Pattern = "">
struct String : std::string {
    static constexpr std::size_t min_length = Min;
    static constexpr std::size_t max_length = Max;
    static constexpr Literal pattern = Pattern;
    using std::string::string;
    String() = default;
    String(std::string s) : std::string(std::move(s)) {}  // NOLINT: plain strings convert
};

/// A whole number in Min..Max, held as std::int64_t. Converts to and from it implicitly.
template <std::int64_t Min = std::numeric_limits<std::int64_t>::min(),
          std::int64_t Max = std::numeric_limits<std::int64_t>::max()>
struct Int {
    static constexpr std::int64_t minimum = Min;
    static constexpr std::int64_t maximum = Max;
    std::int64_t value = Min > 0 ? Min : (Max < 0 ? Max : 0);
    Int() = default;
    Int(std::int64_t v) : value(v) {}  // NOLINT
    operator std::int64_t() const noexcept { return value; }
};

/// A finite number in Min/Scale..Max/Scale, held as double: `Number<0, 1>` is 0..1,
/// `Number<-1805, 1805, 10>` is -180.5..180.5. (Bounds are integers because Clang before 18
/// takes no floating-point template arguments.) The int64 extremes leave that side open.
template <std::int64_t Min = std::numeric_limits<std::int64_t>::min(),
          std::int64_t Max = std::numeric_limits<std::int64_t>::max(), std::int64_t Scale = 1>
struct Number {
    static_assert(Scale > 0, "spur::Number's Scale must be positive");
    static constexpr double minimum = Min == std::numeric_limits<std::int64_t>::min()
                                          ? std::numeric_limits<double>::lowest()
                                          : static_cast<double>(Min) / static_cast<double>(Scale);
    static constexpr double maximum = Max == std::numeric_limits<std::int64_t>::max()
                                          ? std::numeric_limits<double>::max()
                                          : static_cast<double>(Max) / static_cast<double>(Scale);
    double value = 0;
    Number() = default;
    Number(double v) : value(v) {}  // NOLINT
    operator double() const noexcept { return value; }
};

/// A list of Min..Max items. Behaves as the std::vector it derives from.
template <class T, std::size_t Min = 0, std::size_t Max = std::numeric_limits<std::size_t>::max()>
struct List : std::vector<T> {
    static constexpr std::size_t min_items = Min;
    static constexpr std::size_t max_items = Max;
    using std::vector<T>::vector;
    List() = default;
    List(std::vector<T> v) : std::vector<T>(std::move(v)) {}  // NOLINT
};

/// The JSON Schema `format`s spur checks on input.
enum class StringFormat { email, uuid, date_time, uri };

/// Whether `s` is in `format`, as spur checks a FormattedString on input (no allocation).
bool matches_format(std::string_view s, StringFormat format) noexcept;

/// A string with a JSON Schema `format`, checked on input. Behaves as the std::string it derives from.
template <StringFormat F>
struct FormattedString : std::string {
    static constexpr StringFormat format = F;
    using std::string::string;
    FormattedString() = default;
    FormattedString(std::string s) : std::string(std::move(s)) {}  // NOLINT
};
/// An e-mail address: one '@', a dotted domain, no spaces or quoting, at most 254 bytes.
using Email = FormattedString<StringFormat::email>;
/// A UUID in its canonical 8-4-4-4-12 hexadecimal form (either case).
using Uuid = FormattedString<StringFormat::uuid>;
/// An RFC 3339 date-time: "2026-12-01T05:36:39Z", or with an offset and fractional seconds.
using DateTime = FormattedString<StringFormat::date_time>;
/// An absolute URI (RFC 3986) with a scheme: "https://example.com/a?b".
using Uri = FormattedString<StringFormat::uri>;

/// Whether a described struct accepts members it does not describe (ignored). Off: unknown
/// members are a validation error. Specialise it to opt a type in:
///     template <> inline constexpr bool spur::allow_unknown_fields<Webhook> = true;
template <class T>
inline constexpr bool allow_unknown_fields = false;

}  // namespace spur
