#include "compiled_template.hpp"

#include <spur/views/views.hpp>

namespace spur::detail {

CompiledTemplate::CompiledTemplate(std::string_view name, const std::string& text) {
    // What kainjow's basic_mustache(text) does: default delimiters, so a set-delimiter tag in a
    // partial stays inside that partial.
    mustache::context<std::string> no_data;
    mustache::context_internal<std::string> state{no_data};
    std::string error;
    mustache::parser<std::string> parse{text, state, root_, error};
    if (!error.empty()) throw ViewError("template \"" + std::string(name) + "\": " + error);
}

namespace {

using Component = mustache::component<std::string>;

// A port of basic_mustache's render_component / render_section / render_current_line for the
// values spur's views hold (objects, lists, strings, booleans: never lambdas), with one change:
// a partial is walked from its parse tree instead of being parsed again. Any other difference
// would be a bug: tests/views compares the two renderers on the edge cases.
class TemplateWalk {
public:
    TemplateWalk(const mustache::data& data, PartialSource& partials) : stack_(&data), partials_(partials) {}

    std::string run(const CompiledTemplate& page) {
        children(page.root());
        end_line(nullptr);
        return std::move(out_);
    }

private:
    void children(const Component& parent) {
        for (const auto& child : parent.children) component(child);
    }

    void component(const Component& c) {
        if (c.is_text()) {
            if (c.is_newline())
                end_line(&c.text);
            else
                line_ += c.text;
            return;
        }
        const auto& tag = c.tag;
        switch (tag.type) {
        case mustache::tag_type::variable:
        case mustache::tag_type::unescaped_variable:
            if (const auto* value = stack_.get(tag.name); value && value->is_string())
                line_ += tag.type == mustache::tag_type::variable ? mustache::html_escape(value->string_value())
                                                                   : value->string_value();
            break;
        case mustache::tag_type::section_begin:
            if (const auto* value = stack_.get(tag.name); value && !value->is_false() && !value->is_empty_list())
                section(c, value);
            break;
        case mustache::tag_type::section_begin_inverted:
            if (const auto* value = stack_.get(tag.name); !value || value->is_false() || value->is_empty_list())
                section(c, value);
            break;
        case mustache::tag_type::partial:
            include(tag.name);
            break;
        default:  // comments; set-delimiter tags matter to the parser only
            break;
        }
    }

    // The section tags' own lines are "standalone" (dropped when otherwise blank): hence the
    // flag before and after each pass, as kainjow sets it.
    void section(const Component& c, const mustache::data* value) {
        if (value && value->is_non_empty_list()) {
            for (const auto& item : value->list_value()) pass(c, &item);
        } else {
            pass(c, value);
        }
    }

    void pass(const Component& c, const mustache::data* value) {
        section_line_ = true;
        if (value) stack_.push(value);
        children(c);
        if (value) stack_.pop();
        section_line_ = true;
    }

    // kainjow renders a partial into the including line (no re-indentation, no line end of its own).
    void include(const std::string& name) {
        if (depth_ == max_partial_depth)
            throw ViewError("partial \"" + name + "\" nested " + std::to_string(max_partial_depth) +
                            " deep: a partial that includes itself needs data that ends the recursion");
        const auto& partial = partials_.partial(name);
        ++depth_;
        children(partial.root());
        --depth_;
    }

    void end_line(const std::string* newline) {
        if (!(section_line_ && blank(line_))) {
            out_ += line_;
            if (newline) out_ += *newline;
        }
        line_.clear();
        section_line_ = false;
    }

    static bool blank(const std::string& text) {
        return text.find_first_not_of(" \t") == std::string::npos;
    }

    mustache::context<std::string> stack_;
    PartialSource& partials_;
    std::string out_;
    std::string line_;  // the line being rendered: dropped if a section tag made it blank
    bool section_line_ = false;
    int depth_ = 0;
};

}  // namespace

std::string render(const CompiledTemplate& page, const mustache::data& data, PartialSource& partials) {
    return TemplateWalk(data, partials).run(page);
}

}  // namespace spur::detail
