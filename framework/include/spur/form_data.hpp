#pragma once
// spur::FormData — fields and uploaded files of a form body (urlencoded or multipart).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spur {

/// One uploaded file. Small files are kept in memory (`data`); larger ones were streamed to a
/// temporary file (`path`) that is deleted with the request — move it elsewhere to keep it.
struct UploadedFile {
    std::string field;         ///< the form field name
    std::string filename;      ///< as the client sent it: never use it as a path unchecked
    std::string content_type;  ///< as the client sent it
    std::uint64_t size = 0;
    std::string data;             ///< the content, when in memory
    std::filesystem::path path;   ///< the temporary file, when on disk

    bool on_disk() const noexcept { return !path.empty(); }
};

/// Parsed form fields and files. Owns the temporary files of its uploads.
class FormData {
public:
    FormData() = default;
    FormData(const FormData&) = delete;
    FormData& operator=(const FormData&) = delete;
    ~FormData();

    /// The first value of field `name`, or nullopt.
    std::optional<std::string_view> field(std::string_view name) const;
    /// Every value of a repeated field, in order.
    std::vector<std::string_view> fields_all(std::string_view name) const;
    /// The first file uploaded under `name`, or null.
    const UploadedFile* file(std::string_view name) const;

    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<UploadedFile> files;
};

class Request;
/// The form parsed by middleware::urlencoded() or middleware::multipart(), or null if none ran.
const FormData* form_data(const Request& req);

}  // namespace spur
