#pragma once
// A Mustache template parsed once, and the render walk that includes partials from their parsed
// form. kainjow's own renderer parses a partial's text again at every inclusion (a fortunes
// page: once per row) and offers no hook to hand it a parsed one, so spur keeps kainjow's
// parser, data, lookup and escaping and walks the parse tree itself.

#include <kainjow/mustache.hpp>

#include <string>
#include <string_view>

namespace spur::detail {

namespace mustache = kainjow::mustache;

/// How deep partials may include partials. A partial that includes itself renders a tree as
/// deep as its data; past this depth the render is a ViewError rather than a stack overflow.
inline constexpr int max_partial_depth = 64;

/// One template file's parse tree. Immutable once made: renders from several threads share it
/// without a lock.
class CompiledTemplate {
public:
    /// Parses `text`. Throws ViewError naming `name` when the template is malformed (an unclosed
    /// tag or section, a bad set-delimiter tag), with kainjow's message.
    CompiledTemplate(std::string_view name, const std::string& text);

    const mustache::component<std::string>& root() const noexcept { return root_; }

private:
    mustache::component<std::string> root_;
};

/// Where a render finds the partials it includes.
class PartialSource {
public:
    /// The parsed partial `name`, alive until the render ends. Throws ViewError when it is
    /// missing, malformed or its name leaves the views directory.
    virtual const CompiledTemplate& partial(const std::string& name) = 0;

protected:
    ~PartialSource() = default;
};

/// `page` rendered with `data` exactly as kainjow's renderer would (same lookups, HTML escape,
/// and line handling: standalone section tags vanish with their line; a partial shares the
/// including line and is not re-indented), each `{{> name}}` walked from `partials`. Throws
/// ViewError from `partials`, and when partials nest deeper than max_partial_depth.
std::string render(const CompiledTemplate& page, const mustache::data& data, PartialSource& partials);

}  // namespace spur::detail
