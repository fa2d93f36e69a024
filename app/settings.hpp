#pragma once
// spur-app's settings as one table (app/settings.cpp): a row per setting names its environment
// variable, its flag, its default and its help, and parses its value into Config. The loader
// (load_config), `spur-app --help` and the table in docs/api.md (`spur-app settings`, kept equal
// by the settings_doc test) are all made from it.

#include "config.hpp"
#include "setting_parsers.hpp"

#include <span>
#include <string>
#include <string_view>

namespace app {

struct Setting {
    std::string_view env;   ///< the environment variable
    std::string_view flag;  ///< the flag that overrides it: --flag=value or --flag value
    std::string_view help;  ///< what it does, a sentence or two (markdown's `code` allowed)
    Parser parse;
    /// The default in words when Config{}'s value does not say it ("required"); empty: the
    /// default column shows Config{}'s value, or "none" when that is empty.
    std::string_view fallback = {};
    /// A secret: also read from the file that ENV_FILE or --flag-file names, and never echoed
    /// in an error.
    bool secret = false;
    /// Set: the flag takes no value and gives the setting this one (`--dev` is SPUR_ENV=development).
    std::string_view flag_means = {};
};

/// Every setting, in the order --help lists them.
std::span<const Setting> settings();

/// A setting's default as --help and the docs show it.
std::string default_text(const Setting& setting);

/// The settings part of --help: each setting's names and default on one line, its help below.
std::string settings_help();

/// The settings as a markdown table (what docs/api.md holds between its settings markers).
std::string settings_markdown();

}  // namespace app
