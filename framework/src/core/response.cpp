#include <spur/response.hpp>

#include <spur/detail/response_access.hpp>
#include <spur/http_error.hpp>
#include <spur/strings.hpp>

#include "util/header_fields.hpp"
#include "util/net.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace spur {

namespace {
// RFC 9110 §5.6.2 tchar.
constexpr auto token_chars = [] {
    std::array<bool, 256> ok{};
    for (int c = 'a'; c <= 'z'; ++c) ok[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) ok[c] = true;
    for (int c = '0'; c <= '9'; ++c) ok[c] = true;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) ok[c] = true;
    return ok;
}();

// Whether the header has a field `name`, by enum: a lookup by name compares strings
// case-insensitively, which cost more than the rest of send() together.
bool has_field(const http::response_header<>& header, http::field name) noexcept {
    for (const auto& field : header)
        if (field.name() == name) return true;
    return false;
}
}  // namespace

bool is_valid_header_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (unsigned char c : name)
        if (!token_chars[c]) return false;
    return true;
}

bool is_valid_header_value(std::string_view value) noexcept {
    // Eight bytes at a time, looking only for a byte below 0x0E (where CR, LF and NUL are);
    // the rare word that has one (a tab) is checked byte by byte. Every response header a
    // handler or middleware sets passes here: byte by byte it was 4% of spur-app's /healthz.
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const char* p = value.data();
    std::size_t left = value.size();
    for (; left >= 8; p += 8, left -= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        if (((word - 0x0E * ones) & ~word & highs) == 0) continue;  // no byte below 0x0E
        for (int i = 0; i < 8; ++i)
            if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') return false;
    }
    for (; left > 0; ++p, --left)
        if (*p == '\r' || *p == '\n' || *p == '\0') return false;
    return true;
}

namespace {
void check_header(std::string_view name, std::string_view value) {
    if (!is_valid_header_name(name)) throw std::invalid_argument("invalid response header name");
    if (!is_valid_header_value(value)) throw std::invalid_argument("CR, LF or NUL in response header value");
}
}  // namespace

Response::Response() {
    header_.result(http::status::ok);
    header_.version(11);
}

Response& Response::status(int code) {
    if (code < 100 || code > 599) throw std::invalid_argument("HTTP status must be 100..599");
    header_.result(static_cast<unsigned>(code));
    return *this;
}

int Response::status() const noexcept { return static_cast<int>(header_.result_int()); }

Response& Response::operator=(const Response& other) {
    if (this == &other) return *this;
    if (exposed_ && other.preset_) other.materialize();  // what a reference to header_ will show
    header_ = other.header_;
    body_ = other.body_;
    producer_ = other.producer_;
    stream_length_ = other.stream_length_;
    bytes_sent_ = other.bytes_sent_;
    finish_hooks_ = other.finish_hooks_;
    ended_ = other.ended_;
    preset_ = other.preset_;
    kept_ = other.kept_;
    exposed_ = exposed_ || other.exposed_;
    return *this;
}

Response& Response::operator=(Response&& other) {
    if (this == &other) return *this;
    if (exposed_ && other.preset_) other.materialize();
    header_ = std::move(other.header_);
    body_ = std::move(other.body_);
    producer_ = std::move(other.producer_);
    stream_length_ = other.stream_length_;
    bytes_sent_ = other.bytes_sent_;
    finish_hooks_ = std::move(other.finish_hooks_);
    ended_ = other.ended_;
    preset_ = std::move(other.preset_);
    kept_ = std::move(other.kept_);
    exposed_ = exposed_ || other.exposed_;
    return *this;
}

void Response::materialize() const {
    auto preset = std::move(preset_);  // even if an insert throws: never inserted twice
    for (const auto& e : preset->entries()) header_.insert(e.field, e.name, e.value);
    // Kept: get() may have returned a view into them. A second preset's join the first's.
    if (!kept_)
        kept_ = std::move(preset);
    else
        kept_ = std::make_shared<const std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(
            std::move(kept_), std::move(preset));
}

Response::Header& Response::fields_for(http::field known, std::string_view name) {
    if (preset_ && preset_->find(known, name)) materialize();
    return header_;
}

Response& Response::set(std::string_view name, std::string_view value) {
    check_header(name, value);
    const auto known = detail::field_of(name);
    detail::replace_field(fields_for(known, name), known, name, value);
    return *this;
}

Response& Response::append(std::string_view name, std::string_view value) {
    check_header(name, value);
    const auto known = detail::field_of(name);
    fields_for(known, name).insert(known, name, value);
    return *this;
}

Response& Response::unset(std::string_view name) {
    fields_for(http::field::unknown, name).erase(name);
    return *this;
}

std::string_view Response::get(std::string_view name) const {
    return detail::ResponseAccess::value(*this, http::field::unknown, name);
}

Response& Response::vary(std::string_view field) {
    // "*" (varies on more than headers) says all a list could: it replaces the list, as the
    // vary module under Express does.
    if (field == "*") return set("Vary", "*");
    std::string_view first;
    std::size_t fields = 0;
    for (const auto& f : header_) {
        if (f.name() != http::field::vary) continue;
        if (fields++ == 0) first = f.value();
        if (f.value() == "*") return *this;
        ListItems listed(f.value());
        while (auto item = listed.next())
            if (beast::iequals(*item, field)) return *this;
    }
    if (fields == 0 || (fields == 1 && first.empty())) {  // the usual case: no string built
        check_header("Vary", field);
        detail::replace_field(header_, http::field::vary, "Vary", field);
        return *this;
    }
    // Every Vary line the response has, merged into one with `field`: a cache that honoured
    // only some of them could hand one client's answer to another.
    std::string merged;
    for (const auto& f : header_) {
        if (f.name() != http::field::vary || f.value().find_first_not_of(" \t") == std::string_view::npos) continue;
        merged.append(f.value()).append(", ");
    }
    merged.append(field);
    return set("Vary", merged);
}

Response& Response::type(std::string_view content_type) {
    if (content_type == "json") return set("Content-Type", "application/json");
    if (content_type == "html") return set("Content-Type", "text/html; charset=utf-8");
    if (content_type == "text") return set("Content-Type", "text/plain; charset=utf-8");
    if (content_type == "bin") return set("Content-Type", "application/octet-stream");
    return set("Content-Type", content_type);
}

Response& Response::send(std::string body) {
    if (!has_field(header_, http::field::content_type))
        header_.insert(http::field::content_type, "text/plain; charset=utf-8");
    body_ = std::move(body);
    producer_ = nullptr;
    ended_ = true;
    return *this;
}

Response& Response::json(const json::value& value) { return json_text(json::serialize(value)); }

Response& Response::json_text(std::string text) {
    if (!has_field(header_, http::field::content_type))
        header_.insert(http::field::content_type, "application/json");
    body_ = std::move(text);
    producer_ = nullptr;
    ended_ = true;
    return *this;
}

Response& Response::redirect(std::string_view url, int code) {
    if (code < 300 || code > 399) throw std::invalid_argument("redirect status must be 3xx");
    set("Location", url);
    status(code);
    return send(std::string("Redirecting to ").append(url));
}

Response& Response::end() {
    ended_ = true;
    return *this;
}

Response& Response::cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
    header_.insert(http::field::set_cookie, serialize_cookie(name, value, options));
    return *this;
}

Response& Response::clear_cookie(std::string_view name, const CookieOptions& options) {
    CookieOptions expired = options;
    expired.max_age = std::chrono::seconds(0);
    expired.expires = std::chrono::system_clock::time_point{};
    return cookie(name, "", expired);
}

Response& Response::on_finish(std::function<void(Response&)> hook) {
    if (!hook) return *this;
    // Room for a few at once: an app's access log and metrics each add one to every response.
    if (finish_hooks_.capacity() == 0) finish_hooks_.reserve(4);
    finish_hooks_.push_back(std::move(hook));
    return *this;
}

namespace detail {

namespace {
// Fields read or written straight in the header — by the server (framing, hop-by-hop) or by
// Response's own setters — where a preset one would be missed or duplicated.
bool managed_elsewhere(http::field f) noexcept {
    switch (f) {
        case http::field::content_length:
        case http::field::transfer_encoding:
        case http::field::connection:
        case http::field::keep_alive:
        case http::field::proxy_connection:
        case http::field::upgrade:
        case http::field::te:
        case http::field::trailer:
        case http::field::date:
        case http::field::server:
        case http::field::content_type:
        case http::field::vary:
        case http::field::set_cookie:
        case http::field::location:
            return true;
        default:
            return false;
    }
}
}  // namespace

PresetFields::PresetFields(std::vector<std::pair<std::string, std::string>> fields) {
    entries_.reserve(fields.size());
    for (auto& [name, value] : fields) {
        check_header(name, value);
        const auto known = field_of(name);
        if (managed_elsewhere(known)) throw std::invalid_argument("header " + name + " cannot be preset");
        if (find(known, name)) throw std::invalid_argument("header " + name + " preset twice");
        wire_.append(name).append(": ").append(value).append("\r\n");
        entries_.push_back({known, std::move(name), std::move(value)});
    }
}

const PresetFields::Entry* PresetFields::find(http::field known, std::string_view name) const noexcept {
    for (const auto& e : entries_) {
        const bool same = known != http::field::unknown
                              ? e.field == known
                              : e.name.size() == name.size() && beast::iequals(e.name, name);
        if (same) return &e;
    }
    return nullptr;
}

void ResponseAccess::preset(Response& res, std::shared_ptr<const PresetFields> fields) {
    if (res.preset_) res.materialize();  // an earlier preset's fields become ordinary ones
    auto& h = res.header_;
    if (res.exposed_) {  // someone may hold a reference to the header and write through it
        for (const auto& e : fields->entries()) replace_field(h, e.field, e.name, e.value);
        return;
    }
    for (auto it = h.begin(); it != h.end();)
        it = fields->find(it->name(), it->name_string()) ? h.erase(it) : std::next(it);
    res.preset_ = std::move(fields);
}

std::string_view ResponseAccess::value(const Response& res, http::field known, std::string_view name) {
    if (res.preset_)
        if (const auto* e = res.preset_->find(known, name)) return e->value;
    return known != http::field::unknown ? field_value(res.header_, known) : field_value(res.header_, name);
}

void ResponseAccess::replace(Response& res, http::field known, std::string_view name, std::string_view value) {
    replace_field(res.fields_for(known, name), known, name, value);
}

}  // namespace detail

Response& Response::stream(BodyProducer producer, std::optional<std::uint64_t> content_length) {
    if (!producer) throw std::invalid_argument("stream() needs a producer");
    producer_ = std::move(producer);
    stream_length_ = content_length;
    body_.clear();
    ended_ = true;
    return *this;
}

}  // namespace spur
