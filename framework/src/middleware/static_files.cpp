#include <spur/middleware/static_files.hpp>

#include <spur/http/conditional.hpp>

#include <spur/strings.hpp>

#include "util/http_date.hpp"

#include <boost/beast/core/string.hpp>
#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>

namespace spur::middleware {

namespace fs = std::filesystem;

std::string_view mime_type(std::string_view filename) noexcept {
    struct Entry {
        std::string_view ext, type;
    };
    static constexpr Entry table[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"}, {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"map", "application/json"}, {"txt", "text/plain; charset=utf-8"}, {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"}, {"xml", "application/xml"}, {"svg", "image/svg+xml"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
        {"webp", "image/webp"}, {"avif", "image/avif"}, {"ico", "image/x-icon"}, {"woff", "font/woff"},
        {"woff2", "font/woff2"}, {"ttf", "font/ttf"}, {"otf", "font/otf"}, {"pdf", "application/pdf"},
        {"zip", "application/zip"}, {"gz", "application/gzip"}, {"wasm", "application/wasm"},
        {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"},
        {"wav", "audio/wav"}, {"webmanifest", "application/manifest+json"},
    };
    auto dot = filename.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    auto ext = filename.substr(dot + 1);
    for (const auto& e : table)
        if (boost::beast::iequals(e.ext, ext)) return e.type;
    return "application/octet-stream";
}

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

struct File {
    int fd = -1;
    ~File() {
        if (fd >= 0) ::close(fd);
    }
};

struct Opened {
    enum class Kind { file, missing, redirect } kind = Kind::missing;
    std::shared_ptr<File> file;
    std::uint64_t size = 0;
    std::chrono::system_clock::time_point mtime;
    long long mtime_ns = 0;
    std::string name;  // for the content type
    bool gzip = false;  // the file is the precompressed sibling "<name>.gz"
};

bool within(const fs::path& root, const fs::path& p) {
    auto r = root.native();
    auto s = p.native();
    return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

// Runs on the blocking pool: every filesystem call happens here.
Opened open_below(const fs::path& root, const fs::path& relative, bool directory_slash, const std::string& index,
                  bool want_gzip) {
    Opened out;
    std::error_code ec;
    fs::path target = fs::canonical(root / relative, ec);
    if (ec || !within(root, target)) return out;  // missing, or a symlink out of the root
    if (fs::is_directory(target, ec)) {
        if (index.empty()) return out;
        if (!directory_slash) {
            out.kind = Opened::Kind::redirect;
            return out;
        }
        target = fs::canonical(target / index, ec);
        if (ec || !within(root, target)) return out;
    }
    out.name = target.filename().string();
    if (want_gzip) {  // a precompressed sibling, under the same confinement to the root
        fs::path gz = fs::canonical(target.native() + ".gz", ec);
        if (!ec && within(root, gz) && fs::is_regular_file(gz, ec)) {
            target = gz;
            out.gzip = true;
        }
    }
    int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return out;
    auto file = std::make_shared<File>();
    file->fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return out;
    out.kind = Opened::Kind::file;
    out.file = std::move(file);
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    out.mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    return out;
}

// A single "bytes=" range; nullopt means "serve the whole file" (absent, multiple, or malformed).
struct Range {
    std::uint64_t first, last;
    bool satisfiable;
};
std::optional<Range> parse_range(std::string_view header, std::uint64_t size) {
    if (header.substr(0, 6) != "bytes=") return std::nullopt;
    auto spec = header.substr(6);
    if (spec.find(',') != std::string_view::npos) return std::nullopt;
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto digits = [](std::string_view s, std::uint64_t& v) {
        if (s.empty() || s.size() > 19) return false;
        v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        return true;
    };
    std::uint64_t a = 0, b = 0;
    auto left = spec.substr(0, dash), right = spec.substr(dash + 1);
    if (left.empty()) {  // suffix: the last b bytes
        if (!digits(right, b)) return std::nullopt;
        if (b == 0 || size == 0) return Range{0, 0, false};
        return Range{size - std::min(b, size), size - 1, true};
    }
    if (!digits(left, a)) return std::nullopt;
    if (right.empty()) b = size ? size - 1 : 0;
    else if (!digits(right, b) || b < a) return std::nullopt;
    if (a >= size) return Range{0, 0, false};
    return Range{a, std::min(b, size - 1), true};
}

// Whether Accept-Encoding takes gzip (listed without q=0).
bool accepts_gzip(std::string_view header) {
    ListItems items(header);
    while (auto item = items.next()) {
        auto semi = item->find(';');
        auto coding = trim(item->substr(0, semi));
        if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
        if (semi == std::string_view::npos) return true;
        auto params = item->substr(semi + 1);
        auto q = params.find("q=");
        if (q == std::string_view::npos) return true;
        auto value = trim(params.substr(q + 2));
        return !(value.starts_with("0") && value.find_first_not_of("0.") == std::string_view::npos);
    }
    return false;
}

}  // namespace

Handler static_files(fs::path root, StaticOptions options) {
    std::error_code ec;
    auto canonical_root = fs::canonical(root, ec);
    if (ec || !fs::is_directory(canonical_root)) throw std::invalid_argument("static_files: not a directory: " + root.string());
    auto state = std::make_shared<const std::pair<fs::path, StaticOptions>>(canonical_root, std::move(options));

    return [state](Request& req, Response& res) -> Task<> {
        const fs::path& root = state->first;  // not a structured binding: lambdas below capture it
        const StaticOptions& o = state->second;
        std::string_view wanted = req.params().empty() ? req.path() : std::string_view(req.params().back().second);
        if (wanted.find('\0') != std::string_view::npos || wanted.find('\\') != std::string_view::npos)
            throw HttpError(400, "bad_request", "Invalid path");
        fs::path relative;
        std::string_view rest = wanted;
        while (!rest.empty()) {
            auto slash = rest.find('/');
            auto seg = rest.substr(0, slash);
            rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
            if (seg.empty() || seg == ".") continue;
            if (seg == ".." || (seg.front() == '.' && !o.dotfiles)) throw HttpError(404, "not_found", "Not Found");
            relative /= std::string(seg);
        }
        const bool slash = req.path().ends_with('/');
        // A range of the compressed bytes would be a range of another representation: ranges
        // get the file itself.
        const bool want_gzip = o.precompressed && accepts_gzip(req.header("Accept-Encoding")) && req.header("Range").empty();
        // Opened and read on the I/O thread, as nginx does without `aio threads`: what a web
        // front end serves sits in the page cache, where a 64 KiB pread takes microseconds.
        // Through spur::offload these reads queued behind password hashes, and a crowd of
        // downloads made logins fail with 503 (issue #31, finding 4).
        Opened file = open_below(root, relative, slash || relative.empty(), o.index, want_gzip);
        if (file.kind == Opened::Kind::redirect) {
            std::string location(req.path());
            location += '/';
            if (!req.query_string().empty()) {
                location += '?';
                location += req.query_string();
            }
            res.redirect(location, 301);
            co_return;
        }
        if (file.kind != Opened::Kind::file) throw HttpError(404, "not_found", "Not Found");

        std::string etag = fmt::format("W/\"{:x}-{:x}{}\"", file.size, file.mtime_ns, file.gzip ? "-gz" : "");
        if (o.precompressed) res.vary("Accept-Encoding");
        if (file.gzip) res.set("Content-Encoding", "gzip");
        std::string last_modified = detail::format_http_date(file.mtime);
        if (o.etag) res.set("ETag", etag);
        if (o.last_modified) res.set("Last-Modified", last_modified);
        std::string cache = "public, max-age=" + std::to_string(o.max_age.count());
        if (o.immutable) cache += ", immutable";
        res.set("Cache-Control", cache);
        if (!file.gzip) res.set("Accept-Ranges", "bytes");

        // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
        const auto inm = req.header("If-None-Match");
        bool not_modified = false;
        if (!inm.empty()) {
            not_modified = o.etag && etag_matches(inm, etag, true);
        } else if (auto ims = detail::parse_http_date(req.header("If-Modified-Since")); ims && o.last_modified) {
            not_modified = file.mtime <= *ims;
        }
        if (not_modified) {
            res.status(304).end();
            co_return;
        }

        std::uint64_t first = 0, length = file.size;
        auto if_range = req.header("If-Range");
        const bool range_allowed = if_range.empty() || if_range == etag || if_range == last_modified;
        if (auto range = range_allowed ? parse_range(req.header("Range"), file.size) : std::nullopt) {
            if (!range->satisfiable) {
                throw HttpError(416, "range_not_satisfiable", "Range Not Satisfiable")
                    .with_header("Content-Range", "bytes */" + std::to_string(file.size));
            }
            first = range->first;
            length = range->last - range->first + 1;
            res.status(206).set("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->last, file.size));
        }
        res.type(mime_type(file.name));
        auto handle = file.file;
        res.stream(
            [handle, first, length](BodyWriter& out) -> Task<> {
                std::string buffer;
                std::uint64_t offset = first, left = length;
                while (left > 0) {
                    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, read_chunk));
                    buffer.resize(want);
                    ssize_t n;
                    do {
                        n = ::pread(handle->fd, buffer.data(), want, static_cast<off_t>(offset));
                    } while (n < 0 && errno == EINTR);
                    if (n <= 0) throw std::runtime_error("file shrank or failed while being sent");
                    buffer.resize(static_cast<std::size_t>(n));
                    co_await out.write(buffer);
                    offset += buffer.size();
                    left -= buffer.size();
                }
            },
            length);
    };
}

}  // namespace spur::middleware
