#include "setting_parsers.hpp"

#include "mail/message.hpp"

#include <boost/url/parse.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <spur/strings.hpp>

#include <algorithm>
#include <filesystem>

namespace app {

using Error = std::optional<std::string>;

Parser text(std::string Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser http_url(std::string Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            auto url = boost::urls::parse_absolute_uri(text);
            const bool http = url && (url->scheme() == "http" || url->scheme() == "https");
            if (!http || url->host().empty() || url->has_userinfo() || url->has_query() || url->has_fragment())
                return "an http:// or https:// URL with a host and no user, query or fragment (http://127.0.0.1:3002)";
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser smtp_url(std::string Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            if (!text.empty()) {
                auto url = boost::urls::parse_absolute_uri(text);
                const bool smtp = url && (url->scheme() == "smtp" || url->scheme() == "smtps");
                if (!smtp || url->host().empty() || url->has_userinfo() || url->has_query() || url->has_fragment())
                    return "an smtp:// or smtps:// URL with a host and no user, query or fragment "
                           "(smtp://mail.example.com:587; credentials go in SMTP_USERNAME and SMTP_PASSWORD)";
            }
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser mailbox(std::string Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            try {
                (void)mail::parse_mailbox(text);
            } catch (const std::invalid_argument&) {
                return "a mail address in printable ASCII, `Name <local@domain>` or `local@domain`";
            }
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser secret(std::string Config::*member, std::size_t min_size) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            // Empty counts as not given: the loader then asks for one (or makes one in --dev).
            if (!text.empty() && text.size() < min_size) return "at least " + std::to_string(min_size) + " bytes long";
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser list(std::vector<std::string> Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            std::vector<std::string> items;
            spur::ListItems list(text);
            while (auto item = list.next()) items.emplace_back(*item);
            c.*member = std::move(items);
            return std::nullopt;
        },
        .show = [=](const Config& c) {
            std::string out;
            for (const auto& item : c.*member) out += (out.empty() ? "" : ",") + item;
            return out;
        },
    };
}

Parser one_of(std::string Config::*member, std::vector<std::string> choices) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            if (std::find(choices.begin(), choices.end(), text) != choices.end()) {
                c.*member = text;
                return std::nullopt;
            }
            std::string must;
            for (std::size_t i = 0; i < choices.size(); ++i)
                must += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
            return must;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser zero_or_one(bool Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            const auto n = whole_number(text, 0u, 1u);  // as a number: "01" is 1
            if (!n) return "0 or 1";
            c.*member = *n == 1;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return std::string(c.*member ? "1" : "0"); },
    };
}

Parser octal(unsigned Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos)
                return "octal permissions, e.g. 660";
            c.*member = static_cast<unsigned>(std::stoul(text, nullptr, 8)) & 0777u;
            return std::nullopt;
        },
        .show = [=](const Config& c) {
            std::string out;
            for (unsigned bits = c.*member; bits != 0 || out.empty(); bits >>= 3)
                out.insert(out.begin(), static_cast<char>('0' + (bits & 7u)));
            return out;
        },
    };
}

Parser is_word(bool Config::*member, std::string word, std::string otherwise) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            // Exactly one of the two: "Development" or "development " meaning production would
            // be a silent surprise.
            if (text != word && text != otherwise && !text.empty()) return "`" + word + "` or `" + otherwise + "`";
            c.*member = text == word;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member ? word : std::string(); },
    };
}

namespace {
// An IPv4 or IPv6 address as the listeners take it (no names: they are not resolved).
bool ip_literal(const std::string& text) {
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}
}  // namespace

Parser ip_address(std::string Config::*member) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            if (!ip_literal(text)) return "an IP address, e.g. 0.0.0.0, 127.0.0.1 or ::";
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser host_port(std::string Config::*member, std::string Config::*host, unsigned short Config::*port) {
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            const Error must = "IP:port with a port from 1 to 65535, e.g. 127.0.0.1:9464 or [::1]:9464";
            const auto colon = text.rfind(':');
            if (colon == std::string::npos || colon == 0) return must;
            const auto number = whole_number<unsigned short>(text.substr(colon + 1), 1, 65535);
            if (!number) return must;
            std::string name = text.substr(0, colon);
            if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);  // [::1]:9464
            if (!ip_literal(name)) return must;
            c.*member = text;
            c.*host = std::move(name);
            c.*port = *number;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
    };
}

Parser directory(std::string Config::*member, std::vector<std::string> defaults, std::string marker, std::string what) {
    auto holds = [marker](const std::string& dir) {
        return std::filesystem::is_regular_file(std::filesystem::path(dir) / marker);
    };
    return {
        .store = [=](Config& c, const std::string& text) -> Error {
            if (!text.empty() && !holds(text)) return "a directory holding " + what;
            c.*member = text;
            return std::nullopt;
        },
        .show = [=](const Config& c) { return c.*member; },
        .unset = [=](Config& c) {
            const auto found = std::find_if(defaults.begin(), defaults.end(), [&](const auto& d) { return !d.empty() && holds(d); });
            c.*member = found == defaults.end() ? "" : *found;
        },
    };
}

}  // namespace app
