#include "installed.hpp"

#include <filesystem>
#include <system_error>

namespace app {

std::string installed_share(std::string_view name) {
    std::error_code ec;
    // /proc/self/exe rather than argv[0]: it holds whatever PATH lookup or symlink started us.
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    return (exe.parent_path() / ".." / "share" / "spur-app" / name).lexically_normal().string();
}

}  // namespace app
