#include "views/compiled_template.hpp"

#include <spur/views/views.hpp>

#include <catch2/catch.hpp>

#include <map>

namespace mustache = kainjow::mustache;
using spur::detail::CompiledTemplate;

namespace {

using Texts = std::map<std::string, std::string>;

// Partials by name, each parsed once, counting how often the render asks for one.
class Partials : public spur::detail::PartialSource {
public:
    explicit Partials(const Texts& texts) {
        for (const auto& [name, text] : texts) compiled_.try_emplace(name, name, text);
    }
    const CompiledTemplate& partial(const std::string& name) override {
        ++asked;
        auto it = compiled_.find(name);
        if (it == compiled_.end()) throw spur::ViewError("template \"" + name + "\" not found");
        return it->second;
    }
    int asked = 0;

private:
    std::map<std::string, CompiledTemplate> compiled_;
};

// The reference: kainjow's own renderer, which parses each partial's text at every inclusion.
std::string kainjow_render(const std::string& page, mustache::data data, const Texts& partials) {
    for (const auto& [name, text] : partials)
        data.set(name, mustache::data(mustache::partial([copy = text] { return copy; })));
    mustache::mustache tmpl(page);
    REQUIRE(tmpl.is_valid());
    return tmpl.render(data);
}

std::string spur_render(const std::string& page, const mustache::data& data, const Texts& partials) {
    Partials source(partials);
    return spur::detail::render(CompiledTemplate("page", page), data, source);
}

mustache::data sample() {
    mustache::data items(mustache::data::type::list);
    for (const char* name : {"a", "<b>", "c"}) {
        mustache::data item(mustache::data::type::object);
        item.set("name", mustache::data(name));
        items.push_back(item);
    }
    mustache::data user(mustache::data::type::object);
    user.set("name", mustache::data("Ann & Bo"));
    mustache::data data(mustache::data::type::object);
    data.set("items", items);
    data.set("user", user);
    data.set("title", mustache::data("T'"));
    data.set("on", mustache::data(true));
    data.set("off", mustache::data(false));
    data.set("none", mustache::data(mustache::data::type::list));
    return data;
}

}  // namespace

TEST_CASE("compiled partials render byte for byte as kainjow's renderer does", "[views]") {
    // Each case: a page and its partials, chosen for the places where a renderer's line and
    // scope handling shows: standalone and indented partial tags, standalone sections inside a
    // partial, loops, nesting, set-delimiter tags, CRLF, comments, dotted names.
    const std::vector<std::pair<std::string, Texts>> cases = {
        {"<ul>\n  {{> item}}\n</ul>\n", {{"item", "<li>{{title}}</li>\n"}}},
        {"<ul>\n{{#items}}\n  {{> row}}\n{{/items}}\n</ul>\n", {{"row", "{{#on}}\n<li>{{name}}</li>\n{{/on}}\n{{^off}}  x\n{{/off}}"}}},
        {"{{#items}}{{> row}}{{/items}}|{{> row}}", {{"row", "[{{name}}|{{title}}|{{user.name}}]"}}},
        {"a {{> one}} z\n", {{"one", "1({{> two}})"}, {"two", "2(\n{{> three}}\n)"}, {"three", "  {{#items}}{{{name}}},{{/items}}"}}},
        {"{{=<% %>=}}<%> p%><% title %>{{title}}\n", {{"p", "{{title}}{{=| |=}}|title|{{title}}"}}},
        {"{{> p}}{{title}}", {{"p", "{{=<% %>=}}<%title%>"}}},
        {"line\r\n  {{> p}}\r\n{{#none}}x{{/none}}{{^none}}\r\n{{> p}}{{/none}}\r\n", {{"p", "{{! a comment }}\r\n{{user.name}}\r\n"}}},
        {"{{#user}}{{> p}}{{/user}}\n{{> p}}", {{"p", "{{name}}{{#items}}<{{name}}>{{/items}}\n"}}},
        {"\t{{> p}}\n", {{"p", "{{#off}}\n{{/off}}\n"}}},
    };
    for (const auto& [page, partials] : cases) {
        INFO(page);
        CHECK(spur_render(page, sample(), partials) == kainjow_render(page, sample(), partials));
    }
}

TEST_CASE("a partial in a loop is looked up, never parsed, at each inclusion", "[views]") {
    Partials source(Texts{{"row", "<tr><td>{{name}}</td></tr>"}});
    const CompiledTemplate page("page", "<table>{{#items}}{{> row}}{{/items}}</table>");
    CHECK(spur::detail::render(page, sample(), source) == "<table><tr><td>a</td></tr><tr><td>&lt;b&gt;</td></tr><tr><td>c</td></tr></table>");
    CHECK(source.asked == 3);
}

TEST_CASE("a partial including itself renders a tree as deep as its data, and stops with a ViewError past 64 levels", "[views]") {
    Partials source(Texts{{"node", "{{name}}({{#children}}{{> node}}{{/children}})"}, {"forever", "x{{> forever}}"}});
    const auto tree = [](int depth) {
        mustache::data node(mustache::data::type::object);
        node.set("name", mustache::data("leaf"));
        // Empty, not absent: an absent name is looked up in the enclosing node (Mustache's scope).
        node.set("children", mustache::data(mustache::data::type::list));
        for (int level = 1; level < depth; ++level) {
            mustache::data parent(mustache::data::type::object);
            mustache::data children(mustache::data::type::list);
            children.push_back(node);
            parent.set("name", mustache::data("n" + std::to_string(level)));
            parent.set("children", children);
            node = std::move(parent);
        }
        return node;
    };
    CHECK(spur::detail::render(CompiledTemplate("page", "{{> node}}"), tree(3), source) == "n2(n1(leaf()))");
    CHECK_NOTHROW(spur::detail::render(CompiledTemplate("page", "{{> node}}"), tree(64), source));
    CHECK_THROWS_WITH(spur::detail::render(CompiledTemplate("page", "{{> node}}"), tree(65), source),
                      Catch::Contains("partial \"node\" nested 64 deep"));
    CHECK_THROWS_WITH(spur::detail::render(CompiledTemplate("page", "{{> forever}}"), sample(), source),
                      Catch::Contains("partial \"forever\" nested 64 deep"));
}

TEST_CASE("a malformed template is a ViewError naming it, with kainjow's message", "[views]") {
    CHECK_THROWS_WITH(CompiledTemplate("broken", "{{#a}} never closed"), Catch::Contains("template \"broken\": Unclosed section \"a\""));
    CHECK_THROWS_WITH(CompiledTemplate("tag", "{{name"), Catch::Contains("template \"tag\": Unclosed tag"));
    CHECK_THROWS_WITH(CompiledTemplate("delims", "{{=<%=}}"), Catch::Contains("template \"delims\": Invalid set delimiter tag"));
}
