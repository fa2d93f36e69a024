#pragma once
// spur::Views — server-rendered HTML: Mustache templates from a views directory, escaped by default.

#include <spur/extension.hpp>

#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace spur {

class App;
class Request;
class Response;

/// A described struct (or vector, optional, … of them) as JSON (defined in <spur/contract/contract.hpp>).
template <class T>
boost::json::value to_json(const T& value);

/// Where templates come from and how pages are wrapped.
struct ViewOptions {
    /// The views directory: template "page" is `dir/page.mustache`, "admin/users" is
    /// `dir/admin/users.mustache`; partials (`{{> name}}`) are looked up the same way.
    std::filesystem::path dir = "views";
    /// The file name ending of a template.
    std::string extension = ".mustache";
    /// A template every page is rendered into ("layout": `{{{body}}}` there is the page). Empty: none.
    std::string layout{};
    /// Development mode: a template whose file changed is read and compiled again on its next
    /// render, partials included. Off: every template under `dir` is read and compiled once,
    /// when the views are made (a file added later: on its first render), and renders read
    /// them without a lock.
    bool reload = false;
};

/// A template that is missing, malformed or refers to a missing partial. spur::render() turns it
/// into a 500 (logged with the request id); the message names the template, never the data.
class ViewError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Renders Mustache templates (the kainjow/mustache engine) with JSON data. `{{name}}` is
/// HTML-escaped (& < > " ' all become entities); only `{{{name}}}` and `{{& name}}` insert
/// raw text, so every interpolation is safe unless marked raw in the template. Numbers render
/// in their shortest form (2.5, 3); null and false are falsy. Thread-safe: compiled templates are shared.
/// Kept on the app by spur::views(app, options), or made and held by the user.
class Views : public Extension {
public:
    /// Throws std::invalid_argument if options.dir is not a directory.
    explicit Views(ViewOptions options);
    ~Views() override;
    Views(const Views&) = delete;
    Views& operator=(const Views&) = delete;

    /// The HTML of template `name` with `data` (an object; anything else renders with no
    /// values), wrapped in the layout when one is configured. Partials are included from their
    /// compiled form (never parsed again per inclusion), rendered as kainjow renders them: into
    /// the including line, not re-indented. Throws ViewError for a missing or malformed
    /// template or partial, for a name that leaves the views directory, and for partials nested
    /// more than 64 deep (a partial including itself with no data to end the recursion).
    std::string render(std::string_view name, const boost::json::value& data) const;
    /// The same with an explicit layout ("" for none) instead of the configured one.
    std::string render(std::string_view name, const boost::json::value& data, std::string_view layout) const;
    /// Renders a described struct's fields (include <spur/contract/contract.hpp> where it is called).
    template <class T>
        requires(!std::is_convertible_v<const T&, const boost::json::value&>)
    std::string render(std::string_view name, const T& data) const {
        return render(name, spur::to_json(data));
    }

    /// The options these views were made with.
    const ViewOptions& options() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// Renders pages from templates for `app` (Express's app.set("views"), Flask's template folder):
/// spur::render() then finds them. Returns the views, for rendering outside a response (an
/// e-mail body). Throws std::invalid_argument if options.dir is not a directory, and
/// std::logic_error once the app serves or if it has views already.
const Views& views(App& app, ViewOptions options);
/// The views set up for `app`. Throws std::logic_error if there are none.
const Views& views(const App& app);

/// Answers with template `name` of the request's app's views, rendered with `data`, as the
/// text/html body (Flask's render_template, Express's res.render). Throws std::logic_error
/// if the app has no views, and ViewError (a 500 to the client) for a missing or malformed
/// template.
Response& render(const Request& req, Response& res, std::string_view name,
                 const boost::json::value& data = boost::json::object());
/// Renders a described struct's fields; include <spur/contract/contract.hpp>.
template <class T>
    requires(!std::is_convertible_v<const T&, const boost::json::value&>)
Response& render(const Request& req, Response& res, std::string_view name, const T& data) {
    return render(req, res, name, spur::to_json(data));
}

}  // namespace spur
