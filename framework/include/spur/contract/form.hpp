#pragma once
// How spur::Form<T> is read from a request and documented; included by <spur/contract/contract.hpp>.

#include <spur/detail/typed_handler.hpp>
#include <spur/form_data.hpp>

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spur::detail {

/// The form spur::Form<T> reads: the one middleware::urlencoded() or multipart() parsed, else
/// the route's buffered body parsed by its Content-Type (files kept in memory), then kept for
/// spur::form_data(). An empty body without a Content-Type is an empty form. Throws HttpError:
/// 415 for another Content-Type (on any route), 400 for a malformed multipart body, 413 past the
/// default MultipartOptions / UrlencodedOptions counts and sizes. Throws std::logic_error (a
/// 500) for a form on a stream_body() route that no form middleware read: its body is still on
/// the wire.
const FormData& read_form(Request& req);

template <class M>
struct is_uploaded_file : std::false_type {};
template <>
struct is_uploaded_file<UploadedFile> : std::true_type {};
/// UploadedFile, std::optional<UploadedFile> or std::vector<UploadedFile>.
template <class M>
constexpr bool file_member = [] {
    if constexpr (is_optional<M>::value || is_sequence<M>::value) return is_uploaded_file<typename M::value_type>::value;
    else return is_uploaded_file<M>::value;
}();

/// Before the handler, on a route whose body is still on the wire (stream_body()): reads a
/// multipart body as it arrives, files past 64 KiB spooled to disk, or an urlencoded one whole
/// (the route's body_limit bounds both). Nothing when a form middleware already parsed it or the
/// body is buffered (read_form parses that). Throws as read_form.
Task<> prepare_form(Request& req);

/// Whether a file's name is valid UTF-8 without control characters (NUL included).
bool safe_filename(std::string_view name) noexcept;

/// A browser sends a file input left empty as a part with no filename and no bytes: no file.
inline bool chosen(const UploadedFile& f) noexcept { return !(f.filename.empty() && f.size == 0); }

template <class T>
struct Input<Form<T>> {
    static_assert(described_struct<T>, "spur::Form<T> reads a described struct: describe T with BOOST_DESCRIBE_STRUCT");
};

template <described_struct T>
struct Input<Form<T>> {
    using Members = boost::describe::describe_members<T, boost::describe::mod_public>;

    static std::string name_of(std::string_view member) { return wire_name_of<T>(member, &cookie_name); }

    template <class M>
    static void read_files(const FormData& form, const std::string& name, M& out, Walk& w) {
        std::vector<const UploadedFile*> found;
        for (const auto& f : form.files)
            if (f.field == name && chosen(f)) found.push_back(&f);
        // The name is the client's text and goes into logs and answers: held to what text fields are.
        for (const auto* f : found)
            if (!safe_filename(f->filename)) return w.fail("format", "must have a file name of UTF-8 text without control characters");
        if constexpr (is_sequence<M>::value) {
            for (const auto* f : found) out.push_back(*f);
        } else if (!found.empty()) {
            out = *found.front();
        } else if (form.field(name)) {
            w.fail("type", "must be a file");
        } else if constexpr (!is_optional<M>::value) {
            w.fail("required", "is required");
        }
    }

    static Form<T> extract(Request& req, Walk& w) {
        Form<T> f{};
        const FormData& form = read_form(req);
        w.switch_to("form");
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(f.value.*d.pointer)>;
            const std::string name = name_of(d.name);
            w.enter(name);
            if constexpr (file_member<M>) {
                read_files(form, name, f.value.*d.pointer, w);
            } else if (!form.field(name) && form.file(name)) {
                w.fail("type", "must be a field, not a file");
            } else {
                read_text_member<M>(
                    f.value.*d.pointer, w, [&] { return form.fields_all(name); }, [&] { return form.field(name); });
            }
            w.leave();
        });
        return f;
    }

    static constexpr bool has_files = [] {
        bool any = false;
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
            any = any || file_member<M>;
        });
        return any;
    }();

    template <class M>
    static boost::json::value member_schema(SchemaRegistry& r) {
        if constexpr (file_member<M>) {
            boost::json::value file = {{"type", "string"}, {"format", "binary"}};
            if constexpr (is_sequence<M>::value) return {{"type", "array"}, {"items", std::move(file)}};
            else return file;
        } else if constexpr (is_optional<M>::value) {
            return Contract<typename M::value_type>::schema(r);
        } else {
            return Contract<M>::schema(r);
        }
    }
    static boost::json::value schema(SchemaRegistry& r) {
        boost::json::object properties;
        boost::json::array required;
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
            const std::string name = name_of(d.name);
            properties[name] = member_schema<M>(r);
            if (!is_optional<M>::value && !is_sequence<M>::value) required.emplace_back(name);
        });
        boost::json::object out{{"type", "object"}, {"properties", std::move(properties)}};
        if (!required.empty()) out["required"] = std::move(required);
        return out;
    }
    static void document(Inputs& in) {
        in.form = &schema;
        in.form_files = has_files;
        in.prepare = &prepare_form;
    }
};

}  // namespace spur::detail
