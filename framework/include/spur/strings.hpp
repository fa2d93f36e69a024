#pragma once
// spur::trim and spur::ListItems — the two string chores of HTTP values, without allocation.

#include <optional>
#include <string_view>

namespace spur {

/// `s` without leading and trailing spaces and tabs (HTTP's optional white space).
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Walks a `separator`-separated list such as `Accept-Encoding: gzip, br;q=0.5`, yielding
/// each item trimmed and skipping empty ones:
/// `ListItems items(header); while (auto item = items.next()) { ... }`.
class ListItems {
public:
    explicit constexpr ListItems(std::string_view list, char separator = ',') noexcept
        : rest_(list), separator_(separator) {}

    /// The next non-empty item, or nullopt at the end of the list.
    constexpr std::optional<std::string_view> next() noexcept {
        while (!rest_.empty()) {
            const auto at = rest_.find(separator_);
            const auto item = trim(rest_.substr(0, at));
            rest_ = at == std::string_view::npos ? std::string_view{} : rest_.substr(at + 1);
            if (!item.empty()) return item;
        }
        return std::nullopt;
    }

private:
    std::string_view rest_;
    char separator_;
};

}  // namespace spur
