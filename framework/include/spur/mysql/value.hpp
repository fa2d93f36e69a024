#pragma once
// spur::mysql::Value and DateTime — what goes into a statement and what comes out of a row.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace spur::mysql {

/// A DATE / DATETIME / TIMESTAMP value (spur sets the session time zone to UTC).
struct DateTime {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, microsecond = 0;

    static DateTime from_time_point(std::chrono::system_clock::time_point t);
    std::chrono::system_clock::time_point to_time_point() const;
    /// "2024-03-01 12:30:00" (with ".ffffff" when there are microseconds).
    std::string to_string() const;
    /// ISO 8601 UTC: "2024-03-01T12:30:00Z" — what JSON APIs usually want.
    std::string to_iso8601() const;
    friend bool operator==(const DateTime&, const DateTime&) = default;
};

/// Bytes to bind as a BLOB rather than text. A class with a constructor, not an aggregate:
/// GCC 12 destroys aggregate temporaries inside co_await expressions twice, and
/// `co_await pool.execute(sql, Blob(bytes))` is exactly where this is written.
class Blob {
public:
    explicit Blob(std::string b) : bytes(std::move(b)) {}
    std::string bytes;
};

/// One column value or statement parameter: NULL, integer, double, text, blob or date-time.
class Value {
public:
    enum class Kind { null, int64, uint64, double_, text, blob, datetime };

    Value() = default;
    Value(std::nullptr_t) {}
    Value(std::nullopt_t) {}
    Value(bool v) : v_(std::int64_t{v}) {}
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_signed_v<T>)
    Value(T v) : v_(static_cast<std::int64_t>(v)) {}
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && std::is_unsigned_v<T>)
    Value(T v) : v_(static_cast<std::uint64_t>(v)) {}
    Value(double v) : v_(v) {}
    Value(float v) : v_(static_cast<double>(v)) {}
    Value(std::string v) : v_(std::move(v)) {}
    Value(std::string_view v) : v_(std::string(v)) {}
    Value(const char* v) : v_(std::string(v)) {}
    Value(Blob v) : v_(std::move(v.bytes)), blob_(true) {}
    Value(DateTime v) : v_(v) {}
    Value(std::chrono::system_clock::time_point t) : v_(DateTime::from_time_point(t)) {}
    template <class T>
    Value(const std::optional<T>& v) : Value(v ? Value(*v) : Value()) {}

    Kind kind() const noexcept;
    bool is_null() const noexcept { return v_.index() == 0; }

    /// Typed reads; each throws spur::mysql::Error on NULL or an incompatible kind.
    std::int64_t as_int64() const;
    std::uint64_t as_uint64() const;
    double as_double() const;            ///< integers convert
    std::string_view as_string() const;  ///< text or blob bytes
    const DateTime& as_datetime() const;
    bool as_bool() const;

    /// as<T>() for `int`, `int64_t`, `uint64_t`, `double`, `bool`, `std::string`, `std::string_view`, `DateTime`,
    /// and `std::optional<T>` of those (NULL -> nullopt).
    template <class T>
    T as() const;

private:
    std::variant<std::monostate, std::int64_t, std::uint64_t, double, std::string, DateTime> v_;
    bool blob_ = false;
};

namespace detail {
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

template <class T>
T Value::as() const {
    if constexpr (detail::is_optional<T>::value) {
        if (is_null()) return std::nullopt;
        return as<typename T::value_type>();
    } else if constexpr (std::is_same_v<T, bool>) {
        return as_bool();
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        return static_cast<T>(as_int64());
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(as_uint64());
    } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(as_double());
    } else if constexpr (std::is_same_v<T, std::string>) {
        return std::string(as_string());
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        return as_string();
    } else if constexpr (std::is_same_v<T, DateTime>) {
        return as_datetime();
    } else {
        static_assert(sizeof(T) == 0, "unsupported type for Value::as<T>()");
    }
}

}  // namespace spur::mysql
