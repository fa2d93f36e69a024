#pragma once
// spur::Locals — per-request storage middleware uses to hand data to handlers.

#include <any>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur {

/// A small typed key/value store living as long as one request (like Express's res.locals).
class Locals {
public:
    /// Stores value under key, replacing any previous value.
    template <class T>
    void set(std::string_view key, T value) { slot(key) = std::move(value); }

    /// The value under key if present and of type T, else nullptr.
    template <class T>
    T* get(std::string_view key) {
        auto* a = find(key);
        return a ? std::any_cast<T>(a) : nullptr;
    }
    template <class T>
    const T* get(std::string_view key) const {
        auto* a = find(key);
        return a ? std::any_cast<T>(a) : nullptr;
    }

    /// Whether any value is stored under key.
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    /// Removes every value.
    void clear() noexcept { items_.clear(); }

private:
    std::any& slot(std::string_view key);
    std::any* find(std::string_view key);
    const std::any* find(std::string_view key) const;

    std::vector<std::pair<std::string, std::any>> items_;
};

}  // namespace spur
