#include <spur/http/conditional.hpp>

#include <spur/http_error.hpp>

#include <stdexcept>

namespace spur {

namespace {
bool etagc(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x7E) || u >= 0x80;
}

struct Tag {
    bool weak = false;
    std::string_view opaque;
};

// One entity-tag from the front of `s` (after optional whitespace); nullopt when malformed.
std::optional<Tag> take_tag(std::string_view& s) {
    Tag tag;
    if (s.starts_with("W/")) {
        tag.weak = true;
        s.remove_prefix(2);
    }
    if (s.empty() || s.front() != '"') return std::nullopt;
    auto close = s.find('"', 1);
    if (close == std::string_view::npos) return std::nullopt;
    tag.opaque = s.substr(1, close - 1);
    for (char c : tag.opaque)
        if (!etagc(c)) return std::nullopt;
    s.remove_prefix(close + 1);
    return tag;
}

void skip(std::string_view& s, std::string_view chars) {
    while (!s.empty() && chars.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
}
}  // namespace

std::string make_etag(std::string_view opaque, bool weak) {
    for (char c : opaque)
        if (!etagc(c)) throw std::invalid_argument("an entity tag may not hold quotes, spaces or control characters");
    std::string out = weak ? "W/\"" : "\"";
    out.append(opaque).push_back('"');
    return out;
}

bool etag_matches(std::string_view list, std::string_view etag, bool weak) {
    std::string_view own = etag;
    auto mine = take_tag(own);
    if (!mine) return false;
    skip(list, " \t");
    if (list == "*") return true;
    bool found = false;  // the whole list is read: a malformed one matches nothing
    while (!list.empty()) {
        skip(list, " \t,");
        if (list.empty()) break;
        auto theirs = take_tag(list);
        if (!theirs) return false;
        if (theirs->opaque == mine->opaque && (weak || (!theirs->weak && !mine->weak))) found = true;
        skip(list, " \t");
        if (!list.empty() && list.front() != ',') return false;
    }
    return found;
}

void check_if_match(const Request& req, std::optional<std::string_view> current, bool weak) {
    if (!req.has_header("If-Match")) return;
    if (current && etag_matches(req.header("If-Match"), *current, weak)) return;
    HttpError error(412, "precondition_failed",
                    current ? "The resource changed since you read it; fetch it again and reapply your change"
                            : "The resource does not exist");
    if (current) error.with_header("ETag", std::string(*current));
    throw error;
}

bool fresh(const Request& req, Response& res, std::string_view current) {
    res.set("ETag", current);
    if (!req.has_header("If-None-Match") || !etag_matches(req.header("If-None-Match"), current, true)) return false;
    res.status(304).end();
    return true;
}

}  // namespace spur
