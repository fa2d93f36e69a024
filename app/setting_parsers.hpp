#pragma once
// The kinds of value a setting of spur-app takes (app/settings.cpp's table): each one parses a
// setting's text into a member of Config and writes a member's value back as text.

#include "config.hpp"

#include <charconv>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace app {

/// How a setting's text becomes part of Config.
struct Parser {
    /// Parses `text` into the config. On a bad value it stores nothing and returns what the
    /// value must be ("a number from 0 to 65535"); the loader names the variable or flag.
    std::function<std::optional<std::string>(Config&, const std::string& text)> store;
    /// The config's value as the setting spells it ("" for none): the default column shows
    /// Config{}'s, so the defaults are written once, in Config.
    std::function<std::string(const Config&)> show;
    /// When set, gives the setting its value when neither variable nor flag does: a default
    /// found at start rather than a constant (a directory the build made).
    std::function<void(Config&)> unset = {};
};

/// `text` as a whole decimal number from `min` to `max`, or nullopt when it is not one.
template <class T>
std::optional<T> whole_number(const std::string& text, T min, T max) {
    T out{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size() || out < min || out > max) return std::nullopt;
    return out;
}

/// A whole decimal number from `min` to `max`.
template <class T>
Parser number(T Config::*member, std::type_identity_t<T> min, std::type_identity_t<T> max) {
    return {
        .store = [=](Config& c, const std::string& text) -> std::optional<std::string> {
            const auto n = whole_number(text, min, max);
            if (!n) return "a number from " + std::to_string(min) + " to " + std::to_string(max);
            c.*member = *n;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return std::to_string(c.*member); },
    };
}

/// A whole number of seconds from `min` to `max`, into any duration.
template <class Rep, class Period>
Parser seconds(std::chrono::duration<Rep, Period> Config::*member, long min, long max) {
    return {
        .store = [=](Config& c, const std::string& text) -> std::optional<std::string> {
            const auto n = whole_number(text, min, max);
            if (!n) return "a number of seconds from " + std::to_string(min) + " to " + std::to_string(max);
            c.*member = std::chrono::seconds(*n);
            return std::nullopt;
        },
        .show = [=](const Config& c) {
            return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.*member).count());
        },
    };
}

/// Any text, kept as given.
Parser text(std::string Config::*member);

/// An absolute http:// or https:// URL with a host (a service to call), kept as written.
Parser http_url(std::string Config::*member);

/// An `smtp://` or `smtps://` URL with a host and no user, query or fragment (credentials have
/// settings of their own, kept out of the URL), or empty for none.
Parser smtp_url(std::string Config::*member);

/// A mailbox for a From header: `Name <local@domain>` or `local@domain`, printable ASCII
/// (app::mail::parse_mailbox).
Parser mailbox(std::string Config::*member);

/// A secret: any text, but when not empty at least `min_size` bytes long.
Parser secret(std::string Config::*member, std::size_t min_size);

/// A comma-separated list; spaces around items and empty items are dropped.
Parser list(std::vector<std::string> Config::*member);

/// One of `choices`, spelt exactly.
Parser one_of(std::string Config::*member, std::vector<std::string> choices);

/// `0` or `1`.
Parser zero_or_one(bool Config::*member);

/// Octal permission bits (`660`), up to four digits; only the low nine bits are kept.
Parser octal(unsigned Config::*member);

/// `word`, `otherwise` or empty; the member is true for `word` (`SPUR_ENV=development`).
Parser is_word(bool Config::*member, std::string word, std::string otherwise);
/// An IPv4 or IPv6 address (0.0.0.0, ::1), as the listeners take it: names are not resolved.
Parser ip_address(std::string Config::*member);

/// `host:port` (`[::1]:9464` for IPv6), port 1-65535, into `member` as given and split into
/// `host` and `port`.
Parser host_port(std::string Config::*member, std::string Config::*host, unsigned short Config::*port);

/// A directory holding the file `marker` (`what` names its contents in the error), or empty for
/// none. Unset, it is the first of `defaults` that holds `marker` (an installed copy before the
/// build tree's), else none.
Parser directory(std::string Config::*member, std::vector<std::string> defaults, std::string marker, std::string what);

}  // namespace app
