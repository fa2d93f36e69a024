#pragma once
// How a handler with typed inputs is wrapped: Input<Body/Query/Path/Header/Cookie<T>> reads each
// from the request through Contract<T>, TypedSignature collects every problem into one ValidationError,
// and TypedAdapter turns the lambda into a plain spur::Handler. Included by <spur/contract/contract.hpp>.

#include <spur/detail/contract_types.hpp>
#include <spur/handler.hpp>
#include <spur/inputs.hpp>
#include <spur/validation_error.hpp>

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <algorithm>
#include <concepts>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace spur::detail {

/// The body of the request as JSON: checks Content-Type (415) and syntax (400 invalid_json);
/// null for an empty body.
const boost::json::value& typed_json_body(const Request& req);
/// The 404 a path that does not convert answers with.
[[noreturn]] void path_not_found();
/// The header a member's name spells: each `_` a `-`, each word capitalised (`if_match` is
/// `If-Match`), as the OpenAPI document shows it; reading it ignores case.
std::string header_name(std::string_view member);
/// A cookie's name is the member's, as written (cookie names are case-sensitive).
inline std::string cookie_name(std::string_view member) { return std::string(member); }

template <class T>
struct Input;  // how each handler argument type is read from the request

template <class T>
struct Input<Body<T>> {
    static Body<T> extract(Request& req, Walk& w) {
        Body<T> b{};
        w.switch_to("body");
        Contract<T>::read(typed_json_body(req), b.value, w);
        return b;
    }
    static void document(Inputs& in) { in.body = &schema_of<T>; }
};

/// A member read from text values named alike (query keys, form fields): a sequence from every
/// value (`all()`), anything else from the first (`one()`); absent or empty is "required"
/// unless the member is optional.
template <class M, class All, class One>
void read_text_member(M& out, Walk& w, All all, One one) {
    if constexpr (is_sequence<M>::value) {
        auto values = all();
        Contract<M>::check_count(values.size(), w);
        for (auto s : values) Contract<typename M::value_type>::parse(s, out.emplace_back(), w);
    } else {
        std::optional<std::string_view> s = one();
        if (s && !s->empty()) Contract<M>::parse(*s, out, w);
        else if constexpr (!is_optional<M>::value) w.fail("required", "is required");
    }
}

template <described_struct T>
struct Input<Query<T>> {
    using Members = boost::describe::describe_members<T, boost::describe::mod_public>;
    static Query<T> extract(Request& req, Walk& w) {
        Query<T> q{};
        w.switch_to("query");
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(q.value.*d.pointer)>;
            w.enter(d.name);
            read_text_member<M>(
                q.value.*d.pointer, w, [&] { return req.query_all(d.name); }, [&] { return req.query(d.name); });
            w.leave();
        });
        return q;
    }
    static void params(SchemaRegistry& r, boost::json::array& out, const std::vector<std::string>&) {
        boost::mp11::mp_for_each<Members>([&](auto d) {
            using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
            boost::json::object p{{"name", d.name}, {"in", "query"}, {"required", !is_optional<M>::value && !is_sequence<M>::value}};
            if constexpr (is_optional<M>::value) p["schema"] = Contract<typename M::value_type>::schema(r);
            else p["schema"] = Contract<M>::schema(r);
            if constexpr (is_sequence<M>::value) p["explode"] = true;
            out.push_back(std::move(p));
        });
    }
    static void document(Inputs& in) { in.query = &params; }
};

template <class T>
struct Input<Path<T>> {
    static Path<T> extract(Request& req, Walk&) {
        Path<T> p{};
        Walk local("path");  // path problems are a 404, not a validation error
        if constexpr (described_struct<T>) {
            using Members = boost::describe::describe_members<T, boost::describe::mod_public>;
            boost::mp11::mp_for_each<Members>([&](auto d) {
                using M = std::remove_cvref_t<decltype(p.value.*d.pointer)>;
                Contract<M>::parse(req.param(d.name), p.value.*d.pointer, local);
            });
        } else {
            const auto& params = req.params();
            Contract<T>::parse(params.empty() ? std::string_view{} : std::string_view(params.front().second), p.value, local);
        }
        if (!local.ok()) path_not_found();
        return p;
    }
    static std::vector<std::string> names() {
        std::vector<std::string> out;
        if constexpr (described_struct<T>) {
            boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
                [&](auto d) { out.emplace_back(d.name); });
        }
        return out;
    }
    static std::string check(const std::vector<std::string>& route_params) {
        if constexpr (described_struct<T>) {
            auto mine = names();
            auto theirs = route_params;
            std::sort(mine.begin(), mine.end());
            std::sort(theirs.begin(), theirs.end());
            return mine == theirs ? "" : "the members of spur::Path<T> must be the route's parameters";
        } else {
            return route_params.size() == 1 ? "" : "a single-value spur::Path needs a route with exactly one parameter";
        }
    }
    static void params(SchemaRegistry& r, boost::json::array& out, const std::vector<std::string>& route_params) {
        if constexpr (described_struct<T>) {
            boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto d) {
                using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
                out.push_back({{"name", d.name}, {"in", "path"}, {"required", true}, {"schema", Contract<M>::schema(r)}});
            });
        } else {
            if (!route_params.empty())
                out.push_back({{"name", route_params.front()}, {"in", "path"}, {"required", true}, {"schema", Contract<T>::schema(r)}});
        }
    }
    static void document(Inputs& in) {
        in.path = &params;
        in.check_path = &check;
    }
};

/// The name a member of T has on the wire: T's static `wire_name(member)` if it has one, else
/// `spell(member)`.
template <class T>
std::string wire_name_of(std::string_view member, std::string (*spell)(std::string_view)) {
    if constexpr (requires { { T::wire_name(member) } -> std::convertible_to<std::string_view>; })
        return std::string(T::wire_name(member));
    else
        return spell(member);
}

/// Values named on the wire, one per member of a described struct T (or one value named `Name`),
/// as headers and cookies are: absent or empty is "required" unless the member is optional.
/// `Spell` names a member's value unless T has a static `wire_name(member)`.
template <class T, Literal Name, std::string (*Spell)(std::string_view)>
struct NamedValues {
    static_assert(described_struct<T> || !Name.empty(),
                  "a single-value spur::Header or spur::Cookie names its value: spur::Header<std::string, \"If-Match\">");

    static std::string wire(std::string_view member) { return wire_name_of<T>(member, Spell); }
    template <class M, class Lookup>
    static void read_one(const std::string& name, M& out, Walk& w, Lookup& lookup) {
        static_assert(!is_sequence<M>::value, "spur::Header and spur::Cookie members are single values");
        w.enter(name);
        const std::optional<std::string_view> s = lookup(name);
        if (s && !s->empty()) Contract<M>::parse(*s, out, w);
        else if constexpr (!is_optional<M>::value) w.fail("required", "is required");
        w.leave();
    }
    template <class Lookup>
    static void read(T& out, Walk& w, Lookup lookup) {
        if constexpr (described_struct<T>) {
            boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
                [&](auto d) { read_one(wire(d.name), out.*d.pointer, w, lookup); });
        } else {
            read_one(std::string(Name.c_str()), out, w, lookup);
        }
    }
    template <class M>
    static void param(SchemaRegistry& r, boost::json::array& out, std::string name, const char* in) {
        boost::json::object p{{"name", std::move(name)}, {"in", in}, {"required", !is_optional<M>::value}};
        if constexpr (is_optional<M>::value) p["schema"] = Contract<typename M::value_type>::schema(r);
        else p["schema"] = Contract<M>::schema(r);
        out.push_back(std::move(p));
    }
    static void params(SchemaRegistry& r, boost::json::array& out, const char* in) {
        if constexpr (described_struct<T>) {
            boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto d) {
                using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
                param<M>(r, out, wire(d.name), in);
            });
        } else {
            param<T>(r, out, std::string(Name.c_str()), in);
        }
    }
};

template <class T, Literal Name>
struct Input<Header<T, Name>> {
    using Values = NamedValues<T, Name, &header_name>;
    static Header<T, Name> extract(Request& req, Walk& w) {
        Header<T, Name> h{};
        w.switch_to("header");
        Values::read(h.value, w, [&](const std::string& name) -> std::optional<std::string_view> {
            auto v = req.header(name);
            return v.empty() ? std::nullopt : std::optional<std::string_view>(v);
        });
        return h;
    }
    static void params(SchemaRegistry& r, boost::json::array& out, const std::vector<std::string>&) { Values::params(r, out, "header"); }
    static void document(Inputs& in) { in.header = &params; }
};

template <class T, Literal Name>
struct Input<Cookie<T, Name>> {
    using Values = NamedValues<T, Name, &cookie_name>;
    static Cookie<T, Name> extract(Request& req, Walk& w) {
        Cookie<T, Name> c{};
        w.switch_to("cookie");
        Values::read(c.value, w, [&](const std::string& name) { return req.cookie(name); });
        return c;
    }
    static void params(SchemaRegistry& r, boost::json::array& out, const std::vector<std::string>&) { Values::params(r, out, "cookie"); }
    static void document(Inputs& in) { in.cookie = &params; }
};

/// A user-defined extractor (spur::ExtractorDoc): a type with a static extract(Request&).
template <class X>
concept user_extractor = requires(Request& req) { X::extract(req); };

template <class X>
    requires user_extractor<X>
struct Input<X> {
    using Result = decltype(X::extract(std::declval<Request&>()));
    static constexpr bool async = std::is_same_v<Result, Task<X>>;
    static_assert(async || std::is_same_v<Result, X>, "an extractor's static extract(Request&) returns X or spur::Task<X>");
    static X extract(Request& req, Walk&)
        requires(!async)
    {
        return X::extract(req);
    }
    static void document(Inputs&) {}
    static void describe(ExtractorDoc& doc) {
        if constexpr (requires { X::document(doc); }) X::document(doc);
    }
};

// Which pass reads an input: the path first (a 404 ends it), then user extractors in parameter
// order (a 401 ends it), then the rest together (one answer lists every problem).
template <class X>
constexpr int pass_of = requires { Input<X>::check; } ? 0 : user_extractor<X> ? 1 : 2;
template <class X>
constexpr bool async_input = [] {
    if constexpr (user_extractor<X>) return Input<X>::async;
    else return false;
}();

template <class R, class... Extra>
struct TypedSignature {
    using result = R;
    static const Inputs& inputs() {
        static const Inputs in = [] {
            Inputs i;
            (Input<std::remove_cvref_t<Extra>>::document(i), ...);
            // Building the schemas once compiles every String pattern the inputs reach, so an
            // invalid one throws here, when the route is registered, not on its first request.
            SchemaRegistry probe;
            boost::json::array params;
            if (i.body && i.form) throw std::logic_error("a handler takes spur::Body or spur::Form, not both");
            if (i.body) i.body(probe);
            if (i.form) i.form(probe);
            if (i.query) i.query(probe, params, {});
            if (i.header) i.header(probe, params, {});
            if (i.cookie) i.cookie(probe, params, {});
            if (i.path) i.path(probe, params, {"_"});  // a stand-in name: only the schema matters
            if constexpr ((user_extractor<std::remove_cvref_t<Extra>> || ...)) {
                i.extractors = &describe;
                i.extractors_before_body = true;
            }
            return i;
        }();
        return in;
    }
    using Args = std::tuple<std::remove_cvref_t<Extra>...>;
    using Parts = std::tuple<std::optional<std::remove_cvref_t<Extra>>...>;
    // A handler with extractors of its own reads the body after them (ready_body), so it
    // runs as a coroutine even when they are synchronous.
    static constexpr bool async = (user_extractor<std::remove_cvref_t<Extra>> || ...);

    static void describe(ExtractorDoc& doc) {
        auto one = [&]<class X>(std::type_identity<X>) {
            if constexpr (user_extractor<X>) Input<X>::describe(doc);
        };
        (one(std::type_identity<std::remove_cvref_t<Extra>>{}), ...);
    }
    // Reads the inputs of `pass` that are read synchronously.
    static void read_pass(Request& req, Walk& w, Parts& parts, int pass) {
        auto run = [&]<class X>(std::optional<X>& slot) {
            if constexpr (!async_input<X>) {
                if (pass_of<X> == pass) slot.emplace(Input<X>::extract(req, w));
            }
        };
        std::apply([&](auto&... slot) { (run(slot), ...); }, parts);
    }
    static Args finish(Walk& w, Parts& parts) {
        if (!w.ok()) throw ValidationError(std::move(w.violations()));
        return std::apply([](auto&... slot) { return Args(std::move(*slot)...); }, parts);
    }
    static Args extract(Request& req) {
        Walk w("body");
        Parts parts;
        for (int pass : {0, 1, 2}) read_pass(req, w, parts, pass);
        return finish(w, parts);
    }
    // The same with coroutine extractors: the second pass awaits each in parameter order.
    template <class X>
    static Task<> fill(std::optional<X>& slot, Request& req) {
        if constexpr (async_input<X>) {
            Task<X> pending = X::extract(req);  // named: no temporary inside the co_await (GCC 12)
            X value = co_await std::move(pending);
            slot.emplace(std::move(value));
        } else {
            slot.emplace(X::extract(req));
            co_return;
        }
    }
    static Task<Args> extract_async(Request& req) {
        Walk w("body");
        Parts parts;
        read_pass(req, w, parts, 0);
        std::vector<Task<>> steps;  // lazy: each starts when awaited, so the order holds
        auto add = [&]<class X>(std::optional<X>& slot) {
            if constexpr (pass_of<X> == 1) steps.push_back(fill(slot, req));
        };
        std::apply([&](auto&... slot) { (add(slot), ...); }, parts);
        for (auto& step : steps) co_await std::move(step);
        if (body_needs_work(req, &inputs())) {
            Task<> body = ready_body(req, &inputs());
            co_await std::move(body);
        }
        if (inputs().prepare) {
            Task<> preparing = inputs().prepare(req);
            co_await std::move(preparing);
        }
        read_pass(req, w, parts, 2);
        co_return finish(w, parts);
    }
};

template <class F, class R, class... Extra>
void adapt_typed(F&& f, Handler::Sync& sync, Handler::Async& async) {
    using Sig = TypedSignature<R, Extra...>;
    static_assert(std::is_void_v<R> || std::is_same_v<R, Task<>>, "a spur handler returns void or spur::Task<>");
    if constexpr (Sig::async) {
        // A coroutine extractor makes the handler a coroutine, whatever the handler returns.
        async = [f = std::forward<F>(f)](Request& req, Response& res) mutable -> Task<> {
            Task<typename Sig::Args> pending = Sig::extract_async(req);
            auto args = co_await std::move(pending);
            if constexpr (std::is_void_v<R>) {
                std::apply([&](auto&... a) { f(req, res, std::move(a)...); }, args);
            } else {
                Task<> call = std::apply([&](auto&... a) { return f(req, res, std::move(a)...); }, args);
                co_await std::move(call);
            }
        };
    } else if constexpr (std::is_void_v<R>) {
        sync = [f = std::forward<F>(f)](Request& req, Response& res) mutable {
            auto args = Sig::extract(req);
            std::apply([&](auto&... a) { f(req, res, std::move(a)...); }, args);
        };
    } else {
        async = [f = std::forward<F>(f)](Request& req, Response& res) mutable -> Task<> {
            auto args = Sig::extract(req);
            // Named first: GCC 12 must not see a temporary built inside the co_await.
            Task<> call = std::apply([&](auto&... a) { return f(req, res, std::move(a)...); }, args);
            co_await std::move(call);
        };
    }
}

template <class F>
struct TypedAdapter {
    template <class C, class R, class... Extra>
    static const Inputs& go(F&& f, Handler::Sync& sync, Handler::Async& async, R (C::*)(Request&, Response&, Extra...) const) {
        adapt_typed<F, R, Extra...>(std::move(f), sync, async);
        return TypedSignature<R, Extra...>::inputs();
    }
    template <class C, class R, class... Extra>
    static const Inputs& go(F&& f, Handler::Sync& sync, Handler::Async& async, R (C::*)(Request&, Response&, Extra...)) {
        adapt_typed<F, R, Extra...>(std::move(f), sync, async);
        return TypedSignature<R, Extra...>::inputs();
    }
    static const Inputs* adapt(F&& f, Handler::Sync& sync, Handler::Async& async) {
        return &go(std::move(f), sync, async, &F::operator());
    }
};

}  // namespace spur::detail
