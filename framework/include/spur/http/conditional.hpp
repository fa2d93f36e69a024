#pragma once
// Conditional requests (RFC 9110 §13) on dynamic responses: entity tags, If-None-Match → 304
// for reads, If-Match → 412 for writes (optimistic concurrency: two editors no longer
// overwrite each other silently).

#include <spur/request.hpp>
#include <spur/response.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace spur {

/// An entity tag for `opaque` (a version number, a hash): `"opaque"`, or `W/"opaque"` when
/// `weak`. Throws std::invalid_argument if `opaque` holds a double quote, a space or a
/// control character (RFC 9110 §8.8.3 etagc).
std::string make_etag(std::string_view opaque, bool weak = false);

/// Whether the If-Match / If-None-Match value `list` (`"a", W/"b"` or `*`) names `etag`.
/// `weak`: the weak comparison (If-None-Match: W/ is ignored on both sides); otherwise the
/// strong one (If-Match: weak tags never match). `*` matches any tag. A malformed list
/// matches nothing.
bool etag_matches(std::string_view list, std::string_view etag, bool weak);

/// For a write (PUT, PATCH, DELETE): throws HttpError(412, "precondition_failed") when the
/// request carries If-Match and it does not name `current` — the resource's tag now, or
/// nullopt when it does not exist (then even `If-Match: *` fails). The error carries the
/// current ETag header when there is one. Without If-Match it does nothing: clients that do
/// not ask for the check keep last-write-wins. The comparison is strong, as RFC 9110 says;
/// `weak` allows W/ tags — right when the tag names the resource's state (a version) rather
/// than its bytes, since compression (spur's, nginx's) weakens tags on the way out.
void check_if_match(const Request& req, std::optional<std::string_view> current, bool weak = false);

/// For a read (GET, HEAD): sets `ETag: current` and returns true — having made `res` a 304
/// without a body — when the request's If-None-Match names it (weak comparison); the
/// handler then returns without building the body. Like Express's `req.fresh`.
bool fresh(const Request& req, Response& res, std::string_view current);

}  // namespace spur
