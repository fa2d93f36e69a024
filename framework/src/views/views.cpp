#include <spur/views/views.hpp>

#include <spur/app.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>

#include "compiled_template.hpp"

#include <charconv>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

namespace spur {

namespace mustache = kainjow::mustache;

namespace {

// One template file, compiled. Immutable once made, so renders share it without a lock.
struct Template {
    detail::CompiledTemplate compiled;
    std::filesystem::file_time_type modified;
};

mustache::data to_data(const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::object: {
        mustache::object object;
        for (const auto& member : v.get_object()) object.emplace(std::string(member.key()), to_data(member.value()));
        return mustache::data(object);
    }
    case boost::json::kind::array: {
        mustache::data list(mustache::data::type::list);
        for (const auto& item : v.get_array()) list.push_back(to_data(item));
        return list;
    }
    case boost::json::kind::string:
        return mustache::data(std::string(v.get_string()));
    case boost::json::kind::bool_:
        return mustache::data(v.get_bool());
    case boost::json::kind::null:
        return mustache::data(false);
    case boost::json::kind::int64:
        return mustache::data(std::to_string(v.get_int64()));
    case boost::json::kind::uint64:
        return mustache::data(std::to_string(v.get_uint64()));
    case boost::json::kind::double_: {
        // The shortest form that reads back the same: 2.5, not JSON's 2.5E0.
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, v.get_double()).ptr;
        return mustache::data(std::string(buffer, end));
    }
    }
    return mustache::data(false);
}

// A name from the application, but it becomes a path: keep it inside the views directory.
bool safe_name(std::string_view name) {
    if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos)
        return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        auto end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        const auto part = name.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

struct Views::Impl {
    ViewOptions options;
    // Every template of the directory, compiled when the views are made (reload off): read
    // without a lock by every I/O thread, never written again.
    std::unordered_map<std::string, std::unique_ptr<const Template>> preloaded;
    // The rest, compiled on first use: all templates in development (reload on), and files that
    // appeared, or did not compile, after the views were made.
    mutable std::shared_mutex mutex;
    mutable std::unordered_map<std::string, std::shared_ptr<const Template>> cache;

    std::filesystem::path path_of(std::string_view name) const {
        if (!safe_name(name)) throw ViewError("invalid template name \"" + std::string(name) + "\"");
        return options.dir / (std::string(name) + options.extension);
    }

    std::unique_ptr<const Template> load(std::string_view name) const {
        const auto path = path_of(name);
        std::error_code ec;
        const auto modified = std::filesystem::last_write_time(path, ec);
        if (ec) throw ViewError("template \"" + std::string(name) + "\" not found");
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        if (!(in && text << in.rdbuf())) throw ViewError("template \"" + std::string(name) + "\" cannot be read");
        return std::unique_ptr<const Template>(new Template{detail::CompiledTemplate(name, text.str()), modified});
    }

    // Compiles every template under the directory once; one that does not compile is left to
    // get(), so that rendering it reports the error as before.
    void preload() {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (fs::recursive_directory_iterator it(options.dir, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec)) {
            const auto& file = it->path();
            const auto text = file.filename().string();
            std::error_code file_ec;
            if (text.size() <= options.extension.size() || !text.ends_with(options.extension) ||
                !it->is_regular_file(file_ec))
                continue;
            auto name = file.lexically_relative(options.dir).generic_string();
            name.resize(name.size() - options.extension.size());
            if (!safe_name(name)) continue;
            try {
                preloaded.emplace(name, load(name));
            } catch (const ViewError&) {
            }
        }
    }

    // A template compiled on first use, or again when reload is on and its file changed.
    std::shared_ptr<const Template> get(std::string_view name) const {
        const std::string key(name);
        {
            std::shared_lock lock(mutex);
            auto it = cache.find(key);
            if (it != cache.end() && !stale(name, *it->second)) return it->second;
        }
        // Compiled outside the lock: two threads may both compile a template once, harmlessly.
        std::shared_ptr<const Template> fresh = load(name);
        std::unique_lock lock(mutex);
        cache[key] = fresh;
        return fresh;
    }

    bool stale(std::string_view name, const Template& t) const {
        if (!options.reload) return false;
        std::error_code ec;
        return std::filesystem::last_write_time(path_of(name), ec) != t.modified || ec;
    }

    std::string render_one(std::string_view name, const mustache::data& data) const;
};

namespace {
// The templates one render uses. Partials come from the views directory rather than from the
// data, so a value in the data can never be taken for a template (which would let it inject
// markup). A template compiled on first use is held until the render ends, and found once per
// render: with reload on, a page and its partials come from one moment's files.
class RenderTemplates : public detail::PartialSource {
public:
    explicit RenderTemplates(const Views::Impl& views) : views_(views) {}

    const detail::CompiledTemplate& partial(const std::string& name) override {
        if (auto it = views_.preloaded.find(name); it != views_.preloaded.end()) return it->second->compiled;
        for (const auto& [held_name, t] : held_)
            if (held_name == name) return t->compiled;
        return held_.emplace_back(name, views_.get(name)).second->compiled;
    }

private:
    const Views::Impl& views_;
    std::vector<std::pair<std::string, std::shared_ptr<const Template>>> held_;
};
}  // namespace

std::string Views::Impl::render_one(std::string_view name, const mustache::data& data) const {
    RenderTemplates templates(*this);
    return detail::render(templates.partial(std::string(name)), data, templates);
}

Views::Views(ViewOptions options) : impl_(std::make_unique<Impl>()) {
    if (!std::filesystem::is_directory(options.dir))
        throw std::invalid_argument("views: \"" + options.dir.string() + "\" is not a directory");
    impl_->options = std::move(options);
    if (!impl_->options.reload) impl_->preload();
}

Views::~Views() = default;

const ViewOptions& Views::options() const noexcept { return impl_->options; }

std::string Views::render(std::string_view name, const boost::json::value& data) const {
    return render(name, data, impl_->options.layout);
}

std::string Views::render(std::string_view name, const boost::json::value& data, std::string_view layout) const {
    auto values = data.is_object() ? to_data(data) : mustache::data(mustache::data::type::object);
    auto page = impl_->render_one(name, values);
    if (layout.empty()) return page;
    values.set("body", mustache::data(std::move(page)));
    return impl_->render_one(layout, values);
}

const Views& views(App& app, ViewOptions options) {
    if (app.extensions().frozen()) throw std::logic_error("spur::views: the app is serving already");
    if (app.extensions().find<Views>()) throw std::logic_error("spur::views: the app has views already");
    return app.extensions().emplace<Views>(std::move(options));
}

const Views& views(const App& app) {
    if (const auto* found = app.extensions().find<Views>()) return *found;
    throw std::logic_error("spur: the app has no views: call spur::views(app, ViewOptions{...}) first");
}

Response& render(const Request& req, Response& res, std::string_view name, const boost::json::value& data) {
    auto html = views(req.app()).render(name, data);
    return res.set("Content-Type", "text/html; charset=utf-8").send(std::move(html));
}

}  // namespace spur
