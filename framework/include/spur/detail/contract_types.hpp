#pragma once
// Contract<T>: how each supported type is read from JSON and from text (query, path), checked,
// written as JSON, and described as JSON Schema — one specialisation per kind of type, so the
// validator and the OpenAPI document cannot disagree. Included by <spur/contract/contract.hpp>.

#include <spur/detail/contract_fwd.hpp>
#include <spur/detail/contract_walk.hpp>
#include <spur/detail/json_out.hpp>
#include <spur/types.hpp>

#include <boost/core/type_name.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enum_to_string.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>

#include <concepts>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace spur::detail {

template <class T>
struct Contract;  // no specialisation: spur cannot read or document this member type

template <class T>
concept described_struct = boost::describe::has_describe_members<T>::value && std::is_class_v<T>;
template <class T>
concept described_enum = boost::describe::has_describe_enumerators<T>::value;

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_sequence : std::false_type {};
template <class T, class A>
struct is_sequence<std::vector<T, A>> : std::true_type {};
template <class T, std::size_t Min, std::size_t Max>
struct is_sequence<List<T, Min, Max>> : std::true_type {};

template <>
struct Contract<bool> {
    static void read(const boost::json::value& v, bool& out, Walk& w) {
        if (v.is_bool()) out = v.get_bool();
        else w.fail("type", "must be true or false");
    }
    static void parse(std::string_view s, bool& out, Walk& w) {
        if (auto b = text_bool(s)) out = *b;
        else w.fail("type", "must be true or false");
    }
    static boost::json::value write(bool v) { return v; }
    static void emit(JsonOut& o, bool v) { o.raw(v ? "true" : "false"); }
    static boost::json::value schema(SchemaRegistry&) { return {{"type", "boolean"}}; }
};

template <class T, __int128 Min, __int128 Max>
struct IntegerContract {
    static void set(__int128 i, T& out, Walk& w) {
        const std::size_t before = w.violations().size();
        check_range(i, Min, Max, w);
        if (w.violations().size() == before) out = static_cast<T>(i);  // in T's range: checked
    }
    static void read(const boost::json::value& v, T& out, Walk& w) {
        if (auto i = json_integer(v)) set(*i, out, w);
        else w.fail("type", "must be an integer");
    }
    static void parse(std::string_view s, T& out, Walk& w) {
        if (auto i = text_integer(s)) set(*i, out, w);
        else w.fail("type", "must be an integer");
    }
    static boost::json::value schema(SchemaRegistry&) { return integer_schema(Min, Max); }
};

template <std::integral T>
    requires(!std::same_as<T, bool>)
struct Contract<T> : IntegerContract<T, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()> {
    static boost::json::value write(T v) { return boost::json::value(v); }
    static void emit(JsonOut& o, T v) { o.value(boost::json::value(v)); }
};

template <std::int64_t Min, std::int64_t Max>
struct Contract<Int<Min, Max>> {
    using Base = IntegerContract<std::int64_t, Min, Max>;
    static void read(const boost::json::value& v, Int<Min, Max>& out, Walk& w) { Base::read(v, out.value, w); }
    static void parse(std::string_view s, Int<Min, Max>& out, Walk& w) { Base::parse(s, out.value, w); }
    static boost::json::value write(const Int<Min, Max>& v) { return boost::json::value(v.value); }
    static void emit(JsonOut& o, const Int<Min, Max>& v) { o.value(boost::json::value(v.value)); }
    static boost::json::value schema(SchemaRegistry& r) { return Base::schema(r); }
};

template <class T>
struct NumberContract {
    static void set(double d, double min, double max, T& out, Walk& w) {
        const std::size_t before = w.violations().size();
        check_range(d, min, max, w);
        if (w.violations().size() == before) out = static_cast<T>(d);
    }
    static void read(const boost::json::value& v, double min, double max, T& out, Walk& w) {
        // Boost.JSON reads 1e400 as infinity; JSON itself has no NaN or Infinity.
        if (!v.is_number() || (v.is_double() && !(v.get_double() - v.get_double() == 0)))
            return w.fail("type", "must be a finite number");
        set(v.to_number<double>(), min, max, out, w);
    }
    static void parse(std::string_view s, double min, double max, T& out, Walk& w) {
        if (auto d = text_number(s)) set(*d, min, max, out, w);
        else w.fail("type", "must be a finite number");
    }
};

template <std::floating_point T>
struct Contract<T> {
    static constexpr double lo = std::numeric_limits<double>::lowest(), hi = std::numeric_limits<double>::max();
    static void read(const boost::json::value& v, T& out, Walk& w) { NumberContract<T>::read(v, lo, hi, out, w); }
    static void parse(std::string_view s, T& out, Walk& w) { NumberContract<T>::parse(s, lo, hi, out, w); }
    static boost::json::value write(T v) { return boost::json::value(static_cast<double>(v)); }
    static void emit(JsonOut& o, T v) { o.number(static_cast<double>(v)); }
    static boost::json::value schema(SchemaRegistry&) { return number_schema(lo, hi); }
};

template <std::int64_t Min, std::int64_t Max, std::int64_t Scale>
struct Contract<Number<Min, Max, Scale>> {
    using N = Number<Min, Max, Scale>;
    static void read(const boost::json::value& v, N& out, Walk& w) {
        NumberContract<double>::read(v, N::minimum, N::maximum, out.value, w);
    }
    static void parse(std::string_view s, N& out, Walk& w) {
        NumberContract<double>::parse(s, N::minimum, N::maximum, out.value, w);
    }
    static boost::json::value write(const N& v) { return boost::json::value(v.value); }
    static void emit(JsonOut& o, const N& v) { o.value(boost::json::value(v.value)); }
    static boost::json::value schema(SchemaRegistry&) { return number_schema(N::minimum, N::maximum); }
};

// Strings: plain, bounded, and with a format. `check` runs on the text for both JSON and query input.
template <class S, class Check>
struct StringContract {
    static void parse(std::string_view s, S& out, Walk& w) {
        const std::size_t before = w.violations().size();
        if (!utf8_length(s)) return w.fail("type", "must be valid UTF-8");
        Check::check(s, w);
        if (w.violations().size() == before) out.assign(s.data(), s.size());
    }
    static void read(const boost::json::value& v, S& out, Walk& w) {
        if (!v.is_string()) return w.fail("type", "must be a string");
        parse(v.get_string(), out, w);
    }
    static boost::json::value write(const S& v) { return boost::json::value(std::string_view(v)); }
    static void emit(JsonOut& o, const S& v) { o.string(std::string_view(v)); }
    static boost::json::value schema(SchemaRegistry&) { return Check::schema(); }
};

struct AnyText {
    static void check(std::string_view, Walk&) {}
    static boost::json::value schema() { return {{"type", "string"}}; }
};
template <std::size_t Min, std::size_t Max, Literal Pattern>
struct BoundedText {
    // Compiled once, then read-only. A typed handler documents its inputs when it is
    // registered, which compiles every pattern it reaches: a bad one fails there, not per request.
    static const CompiledPattern& compiled() {
        static const CompiledPattern pattern(Pattern.c_str());
        return pattern;
    }
    static void check(std::string_view s, Walk& w) {
        if constexpr (Pattern.empty()) check_string(s, Min, Max, nullptr, w);
        else check_string(s, Min, Max, &compiled(), w);
    }
    static boost::json::value schema() {
        if constexpr (Pattern.empty()) return string_schema(Min, Max, "");
        else return string_schema(Min, Max, compiled().text());
    }
};
template <StringFormat F>
struct FormattedText {
    static void check(std::string_view s, Walk& w) { check_format(s, F, w); }
    static boost::json::value schema() { return format_schema(F); }
};

template <>
struct Contract<std::string> : StringContract<std::string, AnyText> {};
template <std::size_t Min, std::size_t Max, Literal Pattern>
struct Contract<String<Min, Max, Pattern>> : StringContract<String<Min, Max, Pattern>, BoundedText<Min, Max, Pattern>> {};
template <StringFormat F>
struct Contract<FormattedString<F>> : StringContract<FormattedString<F>, FormattedText<F>> {};

template <described_enum E>
struct Contract<E> {
    static std::string allowed() {
        std::string out;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
            out += out.empty() ? "" : ", ";
            out += d.name;
        });
        return out;
    }
    static void parse(std::string_view s, E& out, Walk& w) {
        if (!boost::describe::enum_from_string(std::string(s).c_str(), out)) w.fail("enum", "must be one of: " + allowed());
    }
    static void read(const boost::json::value& v, E& out, Walk& w) {
        if (!v.is_string()) return w.fail("enum", "must be one of: " + allowed());
        parse(v.get_string(), out, w);
    }
    static boost::json::value write(E v) { return boost::json::value(boost::describe::enum_to_string(v, "")); }
    static void emit(JsonOut& o, E v) { o.string(boost::describe::enum_to_string(v, "")); }
    static boost::json::value schema(SchemaRegistry&) {
        boost::json::array names;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) { names.emplace_back(d.name); });
        return {{"type", "string"}, {"enum", std::move(names)}};
    }
};

template <class T>
struct Contract<std::optional<T>> {
    static void read(const boost::json::value& v, std::optional<T>& out, Walk& w) {
        if (v.is_null()) return out.reset();
        Contract<T>::read(v, out.emplace(), w);
    }
    static void parse(std::string_view s, std::optional<T>& out, Walk& w) { Contract<T>::parse(s, out.emplace(), w); }
    static boost::json::value write(const std::optional<T>& v) {
        return v ? Contract<T>::write(*v) : boost::json::value(nullptr);
    }
    static void emit(JsonOut& o, const std::optional<T>& v) {
        if (v) Contract<T>::emit(o, *v);
        else o.raw("null");
    }
    static boost::json::value schema(SchemaRegistry& r) { return nullable(Contract<T>::schema(r)); }
};

template <class V>
    requires is_sequence<V>::value
struct Contract<V> {
    using T = typename V::value_type;
    static constexpr std::size_t min_items() {
        if constexpr (requires { V::min_items; }) return V::min_items;
        else return 0;
    }
    static constexpr std::size_t max_items() {
        if constexpr (requires { V::max_items; }) return V::max_items;
        else return std::numeric_limits<std::size_t>::max();
    }
    static void check_count(std::size_t n, Walk& w) {
        if (n < min_items()) w.fail("minItems", "must have at least " + std::to_string(min_items()) + " items");
        if (n > max_items()) w.fail("maxItems", "must have at most " + std::to_string(max_items()) + " items");
    }
    static void read(const boost::json::value& v, V& out, Walk& w) {
        if (!v.is_array()) return w.fail("type", "must be an array");
        const auto& a = v.get_array();
        check_count(a.size(), w);
        out.clear();
        out.reserve(a.size());
        for (std::size_t i = 0; i < a.size() && !w.full(); ++i) {
            w.enter(i);
            Contract<T>::read(a[i], out.emplace_back(), w);
            w.leave();
        }
    }
    static boost::json::value write(const V& v) {
        boost::json::array a;
        a.reserve(v.size());
        for (const auto& item : v) a.push_back(Contract<T>::write(item));
        return a;
    }
    static void emit(JsonOut& o, const V& v) {
        o.raw("[");
        bool first = true;
        for (const auto& item : v) {
            if (!first) o.raw(",");
            first = false;
            Contract<T>::emit(o, item);
        }
        o.raw("]");
    }
    static boost::json::value schema(SchemaRegistry& r) {
        boost::json::object s{{"type", "array"}, {"items", Contract<T>::schema(r)}};
        if (min_items() > 0) s["minItems"] = min_items();
        if (max_items() != std::numeric_limits<std::size_t>::max()) s["maxItems"] = max_items();
        return s;
    }
};

template <class T, class C, class A>
struct Contract<std::map<std::string, T, C, A>> {
    using M = std::map<std::string, T, C, A>;
    static void read(const boost::json::value& v, M& out, Walk& w) {
        if (!v.is_object()) return w.fail("type", "must be an object");
        out.clear();
        for (const auto& kv : v.get_object()) {
            if (w.full()) break;
            w.enter(kv.key());
            Contract<T>::read(kv.value(), out[std::string(kv.key())], w);
            w.leave();
        }
    }
    static boost::json::value write(const M& v) {
        boost::json::object o;
        for (const auto& [k, item] : v) o[k] = Contract<T>::write(item);
        return o;
    }
    static void emit(JsonOut& o, const M& v) {
        o.raw("{");
        bool first = true;
        for (const auto& [k, item] : v) {
            if (!first) o.raw(",");
            first = false;
            o.string(k);
            o.raw(":");
            Contract<T>::emit(o, item);
        }
        o.raw("}");
    }
    static boost::json::value schema(SchemaRegistry& r) {
        return {{"type", "object"}, {"additionalProperties", Contract<T>::schema(r)}};
    }
};

template <>
struct Contract<boost::json::value> {
    static void read(const boost::json::value& v, boost::json::value& out, Walk&) { out = v; }
    static boost::json::value write(const boost::json::value& v) { return v; }
    static void emit(JsonOut& o, const boost::json::value& v) { o.value(v); }
    static boost::json::value schema(SchemaRegistry&) { return boost::json::object{}; }
};

template <described_struct T>
struct Contract<T> {
    using Members = boost::describe::describe_members<T, boost::describe::mod_public>;

    static void read(const boost::json::value& v, T& out, Walk& w) {
        if (!v.is_object()) return w.fail("type", "must be a JSON object");
        const auto& o = v.get_object();
        boost::mp11::mp_for_each<Members>([&](auto d) {
            if (w.full()) return;
            using M = std::remove_cvref_t<decltype(out.*d.pointer)>;
            auto it = o.find(d.name);
            if (it == o.end()) {
                if constexpr (!is_optional<M>::value) {
                    w.enter(d.name);
                    w.fail("required", "is required");
                    w.leave();
                }
                return;
            }
            w.enter(d.name);
            Contract<M>::read(it->value(), out.*d.pointer, w);
            w.leave();
        });
        if constexpr (!allow_unknown_fields<T>) {
            for (const auto& kv : o) {
                if (w.full()) break;
                bool known = false;
                boost::mp11::mp_for_each<Members>([&](auto d) { known = known || kv.key() == d.name; });
                if (known) continue;
                w.enter(kv.key());
                w.fail("additionalProperties", "is not a known field");
                w.leave();
            }
        }
    }
    static boost::json::value write(const T& v) {
        boost::json::object o;
        o.reserve(boost::mp11::mp_size<Members>::value);
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(v.*d.pointer)>;
            o.emplace(d.name, Contract<M>::write(v.*d.pointer));
        });
        return o;
    }
    static void emit(JsonOut& o, const T& v) {
        o.raw("{");
        bool first = true;
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(v.*d.pointer)>;
            o.raw(first ? "\"" : ",\"");
            first = false;
            o.raw(d.name);  // a C++ identifier: nothing to escape
            o.raw("\":");
            Contract<M>::emit(o, v.*d.pointer);
        });
        o.raw("}");
    }
    static boost::json::value build(SchemaRegistry& r) {
        boost::json::object properties;
        boost::json::array required;
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
            properties[d.name] = Contract<M>::schema(r);
            if constexpr (!is_optional<M>::value) required.emplace_back(d.name);
        });
        boost::json::object s{{"type", "object"}, {"properties", std::move(properties)}};
        if (!required.empty()) s["required"] = std::move(required);
        if (!allow_unknown_fields<T>) s["additionalProperties"] = false;
        return s;
    }
    static boost::json::value schema(SchemaRegistry& r) {
        static const int key = 0;
        return r.reference(&key, boost::core::type_name<T>(), &build);
    }
};

template <class T>
boost::json::value schema_of(SchemaRegistry& registry) {
    return Contract<T>::schema(registry);
}

}  // namespace spur::detail
