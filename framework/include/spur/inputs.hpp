#pragma once
// spur::Body, spur::Query, spur::Path, spur::Header, spur::Cookie, spur::Form — the typed inputs a handler
// may take after the request and the response (see <spur/contract/contract.hpp> for what they
// read and how they fail).

#include <spur/types.hpp>

#include <string>
#include <utility>
#include <vector>

namespace spur {

namespace detail {
/// The value a typed input carries: `*in` and `in->member` reach it.
template <class T>
struct Holder {
    T value;
    T& operator*() noexcept { return value; }
    const T& operator*() const noexcept { return value; }
    T* operator->() noexcept { return &value; }
    const T* operator->() const noexcept { return &value; }
};
}  // namespace detail

/// The request body, parsed from JSON and validated as T. Missing or malformed bodies: 415
/// for a non-JSON Content-Type, 400 "invalid_json" for bad syntax, then a ValidationError
/// listing every problem in T's terms.
template <class T>
struct Body : detail::Holder<T> {};

/// The query string read as the described struct T: each member from the key of its name
/// (a vector member from every repetition). An empty value counts as absent. Keys T does not
/// describe are ignored. Problems are a ValidationError with `"in":"query"`.
template <class T>
struct Query : detail::Holder<T> {};

/// Route parameters as T: a described struct whose members are named like the parameters,
/// or a single value (integer, string, spur::Int, …) when the route has exactly one. A value
/// that does not convert or fails its constraint is a 404: the path names no resource.
/// A mismatch between T and the route's parameters throws std::logic_error when the app freezes (spur::Serving).
template <class T>
struct Path : detail::Holder<T> {};

/// Request headers as T. Either a described struct, each member read from the header its name
/// spells with `_` as `-` (`if_match` is `If-Match`, `x_api_key` is `X-Api-Key`; header names
/// are case-insensitive), or a single value with the header's name given: `Header<std::string,
/// "If-Match">`. A struct may rename its members with a static `wire_name(std::string_view
/// member)` returning the header's name. An absent or empty header is "required" unless its
/// member is std::optional; a value that does not convert or fails its constraint is a
/// ValidationError with `"in":"header"`, listed with every other problem of the request.
/// Members are single values (a list header is read as one string).
template <class T, Literal Name = "">
struct Header : detail::Holder<T> {};

/// Cookies as T, read like Header: from a described struct's members (a cookie's name is the
/// member's name as written: cookie names are case-sensitive; `wire_name` renames), or a single
/// value named in the type: `Cookie<std::string, "theme">`. Problems are a ValidationError with
/// `"in":"cookie"`. Signed cookies are checked by the middleware that signs them, not here.
template <class T, Literal Name = "">
struct Cookie : detail::Holder<T> {};

/// A form body as the described struct T: application/x-www-form-urlencoded or
/// multipart/form-data, each member from the field of its name (verbatim; a static
/// `wire_name(member)` renames), read as Query reads its keys (a vector member from every
/// repetition; an empty value counts as absent). A member of type spur::UploadedFile (or
/// std::optional / std::vector of it, from <spur/form_data.hpp>) takes the file parts of its
/// name; a file input left empty (no filename, no bytes) counts as absent, and a file name that
/// is not UTF-8 text without control characters is a `format` problem. The route's body_limit
/// bounds the body; on a buffered route it is parsed in memory, on a stream_body() route as it
/// arrives, files past 64 KiB going to temporary files (middleware::multipart(options) before
/// the handler chooses otherwise, and Form<T> reads what it parsed). Problems are a ValidationError with `"in":"form"`; another
/// Content-Type is a 415, a malformed multipart body a 400. A handler takes Body or Form, not both.
template <class T>
struct Form : detail::Holder<T> {};

/// Your own extractor: any type X with a static `extract` that takes the request,
///
///     static X extract(spur::Request& req);               // read and check, or throw spur::HttpError
///     static spur::Task<X> extract(spur::Request& req);   // the same as a coroutine (a database lookup)
///
/// and optionally `static void document(spur::ExtractorDoc& doc)`. A handler takes X by value
/// after the request and response, in any order with Body, Query, Path, Header and Cookie. The
/// path is read first (its 404 wins), then each extractor in the order of the handler's
/// parameters (so an `Auth<Principal>` answers 401 before a body is validated), then the typed
/// inputs together. A handler taking a coroutine extractor runs as a coroutine. What `document`
/// fills in goes into the OpenAPI operation of every route whose handler takes X.
struct ExtractorDoc {
    /// Security schemes the operation accepts, any one of them (names from
    /// OpenApiOptions::security_schemes), added to the route's own RouteConfig::security.
    std::vector<std::string> security;
    /// Error answers the extractor may give, as status and description: {401, "Not signed in"}.
    std::vector<std::pair<int, std::string>> errors;
};

}  // namespace spur
