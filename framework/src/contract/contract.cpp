// The non-template half of typed contracts: violations with JSON pointers, leaf checks,
// and the schemas those same checks are documented by (one source of truth per rule).
#include <spur/contract/contract.hpp>

#include "util/media_type.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <re2/re2.h>

namespace spur {

ValidationError::ValidationError(std::vector<Violation> violations)
    : HttpError(422, "validation_error", violations.empty() ? std::string() : detail::summarize(violations)),
      violations_(std::move(violations)) {
    if (violations_.empty()) throw std::invalid_argument("a ValidationError needs at least one violation");
    boost::json::array details;
    for (const auto& v : violations_)
        details.push_back({{"in", v.in}, {"path", v.path}, {"rule", v.rule}, {"message", v.message}});
    with_details(std::move(details));
}

namespace detail {
namespace {
bool is_email(std::string_view e);
bool is_uuid(std::string_view s);
bool is_date_time(std::string_view s);
bool is_uri(std::string_view s);
}  // namespace
}  // namespace detail

bool matches_format(std::string_view s, StringFormat format) noexcept {
    switch (format) {
        case StringFormat::email: return detail::is_email(s);
        case StringFormat::uuid: return detail::is_uuid(s);
        case StringFormat::date_time: return detail::is_date_time(s);
        case StringFormat::uri: return detail::is_uri(s);
    }
    return false;
}

namespace detail {

namespace {
constexpr __int128 int64_min = std::numeric_limits<std::int64_t>::min();
constexpr __int128 int64_max = std::numeric_limits<std::int64_t>::max();

std::string to_text(__int128 v) {
    if (v >= int64_min && v <= int64_max) return std::to_string(static_cast<std::int64_t>(v));
    return std::to_string(static_cast<std::uint64_t>(v));  // only uint64's upper half is wider
}

std::string number_text(double d) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

bool all_hex(std::string_view s) {
    return s.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

bool digits(std::string_view s, std::size_t n) {
    return s.size() == n && s.find_first_not_of("0123456789") == std::string_view::npos;
}

int number(std::string_view s) {
    int v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

bool is_email(std::string_view e) {
    const auto at = e.find('@');
    return !e.empty() && e.size() <= 254 && at != std::string_view::npos && at > 0 && at <= 64 &&
           e.find('@', at + 1) == std::string_view::npos && e.find('.', at + 2) != std::string_view::npos &&
           e.back() != '.' && e.find_first_of(" \t\r\n\"(),:;<>[\\]") == std::string_view::npos;
}

bool is_uuid(std::string_view s) {
    return s.size() == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && all_hex(s.substr(0, 8)) &&
           all_hex(s.substr(9, 4)) && all_hex(s.substr(14, 4)) && all_hex(s.substr(19, 4)) && all_hex(s.substr(24));
}

// RFC 3339 section 5.6: full-date "T" full-time, with "Z" or a numeric offset.
bool is_date_time(std::string_view s) {
    if (s.size() < 20 || !digits(s.substr(0, 4), 4) || s[4] != '-' || !digits(s.substr(5, 2), 2) || s[7] != '-' ||
        !digits(s.substr(8, 2), 2) || (s[10] != 'T' && s[10] != 't') || !digits(s.substr(11, 2), 2) || s[13] != ':' ||
        !digits(s.substr(14, 2), 2) || s[16] != ':' || !digits(s.substr(17, 2), 2))
        return false;
    const int year = number(s.substr(0, 4)), month = number(s.substr(5, 2)), day = number(s.substr(8, 2));
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1] + (month == 2 && leap)) return false;
    if (number(s.substr(11, 2)) > 23 || number(s.substr(14, 2)) > 59 || number(s.substr(17, 2)) > 60) return false;
    auto rest = s.substr(19);
    if (rest.front() == '.') {
        auto n = rest.find_first_not_of("0123456789", 1);
        if (n == 1 || n == std::string_view::npos) return false;
        rest.remove_prefix(n);
    }
    if (rest == "Z" || rest == "z") return true;
    return rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest.substr(1, 2), 2) && rest[3] == ':' &&
           digits(rest.substr(4, 2), 2) && number(rest.substr(1, 2)) <= 23 && number(rest.substr(4, 2)) <= 59;
}

bool is_uri(std::string_view s) { return boost::urls::parse_uri(s).has_value(); }

const char* format_name(StringFormat f) {
    switch (f) {
        case StringFormat::email: return "email";
        case StringFormat::uuid: return "uuid";
        case StringFormat::date_time: return "date-time";
        case StringFormat::uri: return "uri";
    }
    return "";
}

const char* format_message(StringFormat f) {
    switch (f) {
        case StringFormat::email: return "must be a valid e-mail address";
        case StringFormat::uuid: return "must be a UUID (8-4-4-4-12 hexadecimal digits)";
        case StringFormat::date_time: return "must be an RFC 3339 date-time, e.g. 2026-12-01T12:00:00Z";
        case StringFormat::uri: return "must be an absolute URI";
    }
    return "";
}

}  // namespace

void Walk::enter(std::string_view key) {
    marks_.push_back(path_.size());
    path_.push_back('/');
    for (char c : key) {  // RFC 6901 escaping
        if (c == '~') path_ += "~0";
        else if (c == '/') path_ += "~1";
        else path_.push_back(c);
    }
}

void Walk::enter(std::size_t index) {
    marks_.push_back(path_.size());
    path_.push_back('/');
    path_ += std::to_string(index);
}

void Walk::leave() {
    path_.resize(marks_.back());
    marks_.pop_back();
}

void Walk::fail(std::string_view rule, std::string_view what) {
    if (full()) return;
    std::string subject = path_.empty() ? (in_ == "body" ? "the body" : in_) : path_.substr(1);
    violations_.push_back({in_, path_, std::string(rule), subject + " " + std::string(what)});
}

std::optional<std::size_t> utf8_length(std::string_view s) noexcept {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++count) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return std::nullopt;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return std::nullopt;
        i += n;
    }
    return count;
}

std::optional<__int128> json_integer(const boost::json::value& v) noexcept {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_double()) {
        const double d = v.get_double();
        // Whole and far inside 128 bits; anything larger is out of every range anyway.
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 1e38) return static_cast<__int128>(d);
    }
    return std::nullopt;
}

std::optional<__int128> text_integer(std::string_view s) noexcept {
    bool negative = !s.empty() && s.front() == '-';
    if (negative || (!s.empty() && s.front() == '+')) s.remove_prefix(1);
    if (s.empty() || s.size() > 30 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    __int128 v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return negative ? -v : v;
}

std::optional<double> text_number(std::string_view s) noexcept {
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
}

std::optional<bool> text_bool(std::string_view s) noexcept {
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
    return std::nullopt;
}

void check_range(__int128 value, __int128 min, __int128 max, Walk& walk) {
    if (value < min) walk.fail("minimum", "must be at least " + to_text(min));
    else if (value > max) walk.fail("maximum", "must be at most " + to_text(max));
}

// RE2, not std::regex: libstdc++'s engine backtracks recursively (GCC bug 86164: a long input
// overflows the stack, and `^(a+)+$` takes exponential time), and patterns run on an I/O thread
// against client text. RE2 matches in time linear in the input and refuses the constructs that
// need backtracking (backreferences, lookaround) when the pattern is compiled.
struct CompiledPattern::Impl {
    re2::RE2 re;
    Impl(const char* pattern, const re2::RE2::Options& options) : re(pattern, options) {}
};

namespace {
re2::RE2::Options pattern_options() {
    re2::RE2::Options o;  // UTF-8, Perl-like syntax: the closest RE2 has to JSON Schema's ECMA-262
    o.set_log_errors(false);  // an invalid pattern is reported by the exception, not on stderr
    return o;
}
}  // namespace

CompiledPattern::CompiledPattern(const char* pattern) : text_(pattern), impl_(new Impl(pattern, pattern_options())) {
    if (!impl_->re.ok())
        throw std::invalid_argument("spur::String pattern \"" + std::string(pattern) +
                                    "\" is not a regular expression RE2 accepts: " + impl_->re.error());
}
CompiledPattern::~CompiledPattern() = default;

bool CompiledPattern::search(std::string_view s) const {
    return re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), impl_->re);
}

void check_range(double value, double min, double max, Walk& walk) {
    if (value < min) walk.fail("minimum", "must be at least " + number_text(min));
    else if (value > max) walk.fail("maximum", "must be at most " + number_text(max));
}

void check_string(std::string_view s, std::size_t min, std::size_t max, const CompiledPattern* pattern, Walk& walk) {
    const std::size_t n = utf8_length(s).value_or(s.size());
    if (n < min) walk.fail("minLength", "must be at least " + std::to_string(min) + (min == 1 ? " character" : " characters"));
    if (n > max) walk.fail("maxLength", "must be at most " + std::to_string(max) + (max == 1 ? " character" : " characters"));
    // Only a string of the allowed length is matched: the bound caps the work a pattern costs.
    if (n < min || n > max) return;
    if (pattern && !pattern->search(s)) walk.fail("pattern", std::string("must match ") + pattern->text());
}

void check_format(std::string_view s, StringFormat format, Walk& walk) {
    if (!matches_format(s, format)) walk.fail("format", format_message(format));
}

boost::json::value string_schema(std::size_t min, std::size_t max, const char* pattern) {
    boost::json::object s{{"type", "string"}};
    if (min > 0) s["minLength"] = min;
    if (max != std::numeric_limits<std::size_t>::max()) s["maxLength"] = max;
    if (pattern && *pattern) s["pattern"] = pattern;
    return s;
}

boost::json::value integer_schema(__int128 min, __int128 max) {
    boost::json::object s{{"type", "integer"}};
    auto json_of = [](__int128 v) {
        return v >= int64_min && v <= int64_max ? boost::json::value(static_cast<std::int64_t>(v))
                                                : boost::json::value(static_cast<std::uint64_t>(v));
    };
    if (min != int64_min) s["minimum"] = json_of(min);
    if (max != int64_max) s["maximum"] = json_of(max);
    return s;
}

boost::json::value number_schema(double min, double max) {
    boost::json::object s{{"type", "number"}};
    if (min != std::numeric_limits<double>::lowest()) s["minimum"] = min;
    if (max != std::numeric_limits<double>::max()) s["maximum"] = max;
    return s;
}

boost::json::value format_schema(StringFormat format) {
    boost::json::object s{{"type", "string"}, {"format", format_name(format)}};
    if (format == StringFormat::email) s["maxLength"] = 254;
    return s;
}

boost::json::value nullable(boost::json::value schema) {
    auto* o = schema.if_object();
    if (o && o->contains("type") && o->at("type").is_string() && !o->contains("enum")) {
        (*o)["type"] = boost::json::array{o->at("type"), "null"};
        return schema;
    }
    return {{"anyOf", boost::json::array{std::move(schema), {{"type", "null"}}}}};
}

boost::json::value SchemaRegistry::reference(const void* key, std::string_view type_name, Build build) {
    for (const auto& [k, name] : names_)
        if (k == key) return {{"$ref", "#/components/schemas/" + name}};
    // "app::texts::TextIn" -> "TextIn"; templates keep their arguments out of the name.
    auto base = type_name.substr(0, type_name.find('<'));
    if (auto colon = base.rfind("::"); colon != std::string_view::npos) base.remove_prefix(colon + 2);
    std::string name(base);
    for (int n = 2; components_.contains(name); ++n) name = std::string(base) + std::to_string(n);
    names_.emplace_back(key, name);
    components_[name] = nullptr;  // reserved, so a recursive type refers to itself
    auto schema = build(*this);
    components_[name] = std::move(schema);
    return {{"$ref", "#/components/schemas/" + name}};
}

void SchemaRegistry::define(std::string name, boost::json::value schema) { components_[name] = std::move(schema); }

std::string summarize(const std::vector<Violation>& violations) {
    if (violations.size() == 1) return violations.front().message;
    std::string out = std::to_string(violations.size()) + " problems: ";
    for (std::size_t i = 0; i < violations.size() && i < 3; ++i) out += (i ? "; " : "") + violations[i].message;
    if (violations.size() > 3) out += "; …";
    return out;
}

const boost::json::value& typed_json_body(const Request& req) {
    static const boost::json::value null;
    if (req.body().empty()) return null;
    if (!is_json_media_type(req.header("Content-Type")))
        throw HttpError(415, "unsupported_media_type", "Expected Content-Type: application/json");
    return req.json();
}

void path_not_found() { throw HttpError(404, "not_found", "Not Found"); }

std::string header_name(std::string_view member) {
    std::string out(member);
    bool word_start = true;
    for (char& c : out) {
        if (c == '_') {
            c = '-';
            word_start = true;
        } else {
            if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
            word_start = false;
        }
    }
    return out;
}

}  // namespace detail
}  // namespace spur
