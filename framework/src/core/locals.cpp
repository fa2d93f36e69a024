#include <spur/locals.hpp>

namespace spur {

std::any& Locals::slot(std::string_view key) {
    if (auto* a = find(key)) return *a;
    return items_.emplace_back(std::string(key), std::any{}).second;
}

std::any* Locals::find(std::string_view key) {
    for (auto& [k, v] : items_)
        if (k == key) return &v;
    return nullptr;
}

const std::any* Locals::find(std::string_view key) const {
    for (const auto& [k, v] : items_)
        if (k == key) return &v;
    return nullptr;
}

}  // namespace spur
