#include <spur/mysql/value.hpp>

#include "mysql/kind_name.hpp"

#include <spur/mysql/error.hpp>
#include <spur/mysql/result.hpp>

#include <fmt/core.h>

#include <ctime>
#include <limits>

namespace spur::mysql {

namespace {
[[noreturn]] void type_error(const char* wanted, const char* have) {
    throw Error(0, "HY000", fmt::format("column value is {}, not {}", have, wanted));
}
}  // namespace

namespace detail {
const char* kind_name(Value::Kind k) noexcept {
    switch (k) {
        case Value::Kind::null: return "NULL";
        case Value::Kind::int64:
        case Value::Kind::uint64: return "an integer";
        case Value::Kind::double_: return "a double";
        case Value::Kind::text: return "text";
        case Value::Kind::blob: return "a blob";
        case Value::Kind::datetime: return "a date-time";
    }
    return "?";
}
}  // namespace detail

DateTime DateTime::from_time_point(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto secs = floor<seconds>(t);
    auto days_since = floor<days>(secs);
    year_month_day ymd{days_since};
    hh_mm_ss hms{secs - days_since};
    DateTime d;
    d.year = static_cast<int>(ymd.year());
    d.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    d.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    d.hour = static_cast<int>(hms.hours().count());
    d.minute = static_cast<int>(hms.minutes().count());
    d.second = static_cast<int>(hms.seconds().count());
    d.microsecond = static_cast<int>(duration_cast<microseconds>(t - secs).count());
    return d;
}

std::chrono::system_clock::time_point DateTime::to_time_point() const {
    using namespace std::chrono;
    sys_days date = year_month_day{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
    return date + hours(hour) + minutes(minute) + seconds(second) + microseconds(microsecond);
}

namespace {
// fmt::format cost ~5,000 instructions a timestamp, and a row of a JSON API formats two or
// three: the digits are written by hand when every field is in its column's range (fmt
// writes anything else, as it always did).
bool in_range(const DateTime& d) {
    return d.year >= 0 && d.year <= 9999 && d.month >= 0 && d.month <= 99 && d.day >= 0 && d.day <= 99 && d.hour >= 0 &&
           d.hour <= 99 && d.minute >= 0 && d.minute <= 99 && d.second >= 0 && d.second <= 99 && d.microsecond >= 0 &&
           d.microsecond <= 999'999;
}

char* digits(char* out, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
    return out + width;
}

// "YYYY-MM-DD?HH:MM:SS", `separator` between the date and the time.
std::string date_time(const DateTime& d, char separator, std::size_t room) {
    std::string s(19, '\0');
    s.reserve(19 + room);
    char* p = s.data();
    p = digits(p, d.year, 4);
    *p++ = '-';
    p = digits(p, d.month, 2);
    *p++ = '-';
    p = digits(p, d.day, 2);
    *p++ = separator;
    p = digits(p, d.hour, 2);
    *p++ = ':';
    p = digits(p, d.minute, 2);
    *p++ = ':';
    digits(p, d.second, 2);
    return s;
}
}  // namespace

std::string DateTime::to_string() const {
    if (!in_range(*this)) {
        std::string s = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", year, month, day, hour, minute, second);
        if (microsecond) s += fmt::format(".{:06}", microsecond);
        return s;
    }
    std::string s = date_time(*this, ' ', 7);
    if (microsecond) {
        char fraction[7] = {'.'};
        digits(fraction + 1, microsecond, 6);
        s.append(fraction, sizeof fraction);
    }
    return s;
}

std::string DateTime::to_iso8601() const {
    if (!in_range(*this)) {
        std::string s = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, month, day, hour, minute, second);
        if (microsecond) s += fmt::format(".{:03}", microsecond / 1000);
        return s + "Z";
    }
    std::string s = date_time(*this, 'T', 5);
    if (microsecond) {
        char fraction[4] = {'.'};
        digits(fraction + 1, microsecond / 1000, 3);
        s.append(fraction, sizeof fraction);
    }
    s.push_back('Z');
    return s;
}

Value::Kind Value::kind() const noexcept {
    switch (v_.index()) {
        case 0: return Kind::null;
        case 1: return Kind::int64;
        case 2: return Kind::uint64;
        case 3: return Kind::double_;
        case 4: return blob_ ? Kind::blob : Kind::text;
        default: return Kind::datetime;
    }
}

std::int64_t Value::as_int64() const {
    if (auto* i = std::get_if<std::int64_t>(&v_)) return *i;
    if (auto* u = std::get_if<std::uint64_t>(&v_)) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) type_error("an int64", "too large");
        return static_cast<std::int64_t>(*u);
    }
    type_error("an integer", detail::kind_name(kind()));
}

std::uint64_t Value::as_uint64() const {
    if (auto* u = std::get_if<std::uint64_t>(&v_)) return *u;
    if (auto* i = std::get_if<std::int64_t>(&v_)) {
        if (*i < 0) type_error("an unsigned integer", "negative");
        return static_cast<std::uint64_t>(*i);
    }
    type_error("an integer", detail::kind_name(kind()));
}

double Value::as_double() const {
    if (auto* d = std::get_if<double>(&v_)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
    if (auto* u = std::get_if<std::uint64_t>(&v_)) return static_cast<double>(*u);
    if (auto* s = std::get_if<std::string>(&v_); s && !blob_) {
        try {
            return std::stod(*s);  // DECIMAL columns arrive as exact text
        } catch (...) {
        }
    }
    type_error("a number", detail::kind_name(kind()));
}

std::string_view Value::as_string() const {
    if (auto* s = std::get_if<std::string>(&v_)) return *s;
    type_error("text", detail::kind_name(kind()));
}

const DateTime& Value::as_datetime() const {
    if (auto* d = std::get_if<DateTime>(&v_)) return *d;
    type_error("a date-time", detail::kind_name(kind()));
}

bool Value::as_bool() const { return as_int64() != 0; }

const Value& Row::operator[](std::string_view name) const {
    for (std::size_t i = 0; i < columns_->size(); ++i)
        if ((*columns_)[i] == name) return values_.at(i);
    throw Error(0, "42S22", fmt::format("no column named '{}' in the result", name));
}

bool Error::connection_lost() const noexcept {
    switch (number_) {
        case 2006:  // CR_SERVER_GONE_ERROR
        case 2013:  // CR_SERVER_LOST
        case 2055:  // CR_SERVER_LOST_EXTENDED
        case 2002:  // CR_CONNECTION_ERROR
        case 2003:  // CR_CONN_HOST_ERROR
        case 1927:  // ER_CONNECTION_KILLED
        case 1053:  // ER_SERVER_SHUTDOWN: the server is going away
        case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
            return true;
        default:
            return number_ == 0 && sqlstate_ == "08S01";  // spur's own: timed out / interrupted
    }
}

}  // namespace spur::mysql
