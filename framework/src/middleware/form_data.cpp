#include <spur/form_data.hpp>

#include <spur/request.hpp>

#include "middleware/form_key.hpp"

#include <memory>
#include <system_error>

namespace spur {

FormData::~FormData() {
    for (const auto& f : files) {
        if (f.on_disk()) {
            std::error_code ec;  // already moved away by the handler: nothing to do
            std::filesystem::remove(f.path, ec);
        }
    }
}

std::optional<std::string_view> FormData::field(std::string_view name) const {
    for (const auto& [k, v] : fields)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> FormData::fields_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : fields)
        if (k == name) out.emplace_back(v);
    return out;
}

const UploadedFile* FormData::file(std::string_view name) const {
    for (const auto& f : files)
        if (f.field == name) return &f;
    return nullptr;
}

const FormData* form_data(const Request& req) {
    const auto* form = req.locals().get<std::shared_ptr<FormData>>(detail::form_locals_key);
    return form ? form->get() : nullptr;
}

}  // namespace spur
