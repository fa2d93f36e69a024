#pragma once
// What the server and the batteries reach in a Response past its public API (spur::detail:
// not for applications): the header without the preset fields, and the preset fields.
//
// Preset fields are fields a middleware puts on every response with the same values
// (security_headers()'s: six by default, seven with HSTS). Validated and serialised once,
// they go to the wire as one block of bytes instead of a Beast field insert each (an
// allocation and a tree insert, then a free: together a sixth of spur-app's smallest
// request), and enter a response's header only when something asks for the header itself
// (Response::header()). Response's set, append, unset and get see them as ordinary fields, so
// a handler overrides or removes one as before. A response shares them (shared_ptr): it may
// outlive the middleware that set them.

#include <spur/response.hpp>

#include <boost/beast/http/field.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur::detail {

class PresetFields {
public:
    struct Entry {
        boost::beast::http::field field;  // field::unknown for a name Beast does not know
        std::string name;
        std::string value;
    };

    /// Validates `fields` once. Throws std::invalid_argument for an invalid name or value
    /// (Response::set's checks), a name given twice, or a field the server or Response
    /// itself writes (framing, hop-by-hop, Content-Type, Vary, Set-Cookie, Location): those
    /// are read from the header directly, where a preset would not be seen.
    explicit PresetFields(std::vector<std::pair<std::string, std::string>> fields);

    const std::vector<Entry>& entries() const noexcept { return entries_; }
    /// "Name: value\r\n" for each entry, in order.
    std::string_view wire() const noexcept { return wire_; }
    /// The entry for field `known`, or with `known` == field::unknown the one called `name`
    /// (case-insensitively); null if none.
    const Entry* find(boost::beast::http::field known, std::string_view name) const noexcept;

private:
    std::vector<Entry> entries_;
    std::string wire_;
};

struct ResponseAccess {
    /// The header without the preset fields: for the framing fields, which no preset holds.
    static Response::Header& raw(Response& res) noexcept { return res.header_; }
    static const Response::Header& raw(const Response& res) noexcept { return res.header_; }
    /// The preset fields' bytes for the head; "" when there are none, or when they were
    /// inserted into the header (which then holds them).
    static std::string_view preset_wire(const Response& res) noexcept {
        return res.preset_ ? res.preset_->wire() : std::string_view();
    }
    /// The preset fields not inserted into the header yet, or null.
    static const PresetFields* preset_of(const Response& res) noexcept { return res.preset_.get(); }
    /// Presets `fields` on `res`, replacing earlier values of those names as set() would; the
    /// response keeps `fields` alive. Once Response::header() has been called on `res`, the
    /// fields are inserted at once instead: a reference to the header may be held.
    static void preset(Response& res, std::shared_ptr<const PresetFields> fields);
    /// The value of field `known` (or called `name`, with field::unknown), preset or not; "" if absent.
    static std::string_view value(const Response& res, boost::beast::http::field known, std::string_view name = {});
    /// Sets field `known` called `name` to `value`, both already validated, as set() does.
    static void replace(Response& res, boost::beast::http::field known, std::string_view name, std::string_view value);
};

}  // namespace spur::detail
