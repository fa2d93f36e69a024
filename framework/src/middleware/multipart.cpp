#include <spur/middleware/multipart.hpp>

#include <spur/detail/memory_budget.hpp>
#include <spur/offload.hpp>

#include "middleware/collect_body.hpp"
#include "middleware/form_key.hpp"
#include "middleware/form_parse.hpp"
#include "middleware/multipart_parser.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace spur::middleware {

namespace {

// A file part bound for disk: bytes wait in `pending` until the next flush on the blocking pool.
// Its descriptor is closed by the flush after its part ended: one upload keeps at most one open.
struct Spool {
    std::size_t file_index;
    int fd = -1;
    std::string pending;
    bool ended = false;
};

// Memory a form holds (its fields, and files below the threshold) on its client's account in
// the server's budget for buffered bodies, given back when the request ends.
struct FormCharge {
    detail::MemoryBudget budget;
    std::size_t bytes = 0;
    ~FormCharge() { budget.give(bytes); }
    void take(std::size_t n) {
        if (!budget.take(n))
            throw HttpError(503, "overloaded", "The server is holding as many request bodies as it allows; retry shortly")
                .with_header("Retry-After", "1");
        bytes += n;
    }
    void give(std::size_t n) noexcept {
        budget.give(n);
        bytes -= n;
    }
};

class Upload {
public:
    Upload(const MultipartOptions& options, std::shared_ptr<FormData> form, std::shared_ptr<FormCharge> charge)
        : o_(options), form_(std::move(form)), charge_(std::move(charge)) {}
    ~Upload() {
        for (auto& s : spools_)
            if (s.fd >= 0) ::close(s.fd);
    }

    detail::MultipartParser::Handler handler() {
        return {[this](detail::PartInfo&& info) { begin(std::move(info)); },
                [this](std::string_view data) { append(data); }, [this] { end(); }};
    }

    // Runs on the blocking pool: creates spool files as needed and writes what is pending.
    void flush() {
        for (auto& s : spools_) {
            if (!s.pending.empty()) write_pending(s);
            if (s.ended && s.fd >= 0) {
                ::close(s.fd);
                s.fd = -1;
            }
        }
    }

    bool has_pending() const {
        for (const auto& s : spools_)
            if (!s.pending.empty() || (s.ended && s.fd >= 0)) return true;
        return false;
    }

private:
    void write_pending(Spool& s) {
        {
            UploadedFile& f = form_->files[s.file_index];
            if (s.fd < 0) {
                std::string name = (temp_dir() / "spur-upload-XXXXXX").string();
                s.fd = ::mkstemp(name.data());  // 0600, unique, created atomically
                if (s.fd < 0 && (errno == EMFILE || errno == ENFILE))  // the server's state, not the client's fault
                    throw HttpError(503, "overloaded", "The server cannot take more uploads now; retry shortly")
                        .with_header("Retry-After", "1");
                if (s.fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create upload file");
                f.path = name;
            }
            std::string_view rest = s.pending;
            while (!rest.empty()) {
                ssize_t n = ::write(s.fd, rest.data(), rest.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot write upload file");
                rest.remove_prefix(static_cast<std::size_t>(n));
            }
            s.pending.clear();
        }
    }

    std::filesystem::path temp_dir() const {
        return o_.temp_dir.empty() ? std::filesystem::temp_directory_path() : o_.temp_dir;
    }

    void begin(detail::PartInfo&& info) {
        if (++parts_ > o_.max_parts) throw HttpError(413, "payload_too_large", "Too many parts in the form");
        if (info.filename) {
            UploadedFile f;
            f.field = std::move(info.name);
            f.filename = std::move(*info.filename);
            f.content_type = std::move(info.content_type);
            form_->files.push_back(std::move(f));
            current_file_ = form_->files.size() - 1;
            spool_ = nullptr;
        } else {
            form_->fields.emplace_back(std::move(info.name), std::string{});
            current_file_.reset();
        }
    }

    void append(std::string_view data) {
        if (!current_file_) {
            std::string& value = form_->fields.back().second;
            if (value.size() + data.size() > o_.max_field_bytes)
                throw HttpError(413, "payload_too_large", "Form field too large");
            charge_->take(data.size());
            value.append(data);
            return;
        }
        UploadedFile& f = form_->files[*current_file_];
        f.size += data.size();
        if (f.size > o_.max_file_bytes) throw HttpError(413, "payload_too_large", "Uploaded file too large");
        if (!spool_ && f.size > o_.memory_threshold) {
            // Past the threshold: what was kept in memory moves to the spool, and so does the rest.
            charge_->give(f.data.size());
            spools_.push_back(Spool{*current_file_, -1, std::move(f.data)});
            f.data.clear();
            spool_ = &spools_.back();
        }
        if (spool_) {
            spool_->pending.append(data);
        } else {
            charge_->take(data.size());
            f.data.append(data);
        }
    }

    void end() {
        if (spool_) spool_->ended = true;
        current_file_.reset();
        spool_ = nullptr;
    }

    const MultipartOptions& o_;
    std::shared_ptr<FormData> form_;
    std::shared_ptr<FormCharge> charge_;
    std::deque<Spool> spools_;  // a deque: spool_ points into it, and appending keeps it valid
    Spool* spool_ = nullptr;
    std::optional<std::size_t> current_file_;
    std::size_t parts_ = 0;
};

}  // namespace

}  // namespace spur::middleware

namespace spur::detail {

namespace {
constexpr std::string_view form_charge_key = "spur.form.memory";
}  // namespace

std::shared_ptr<FormData> parse_multipart(std::string_view body, std::string_view content_type,
                                          const middleware::MultipartOptions& options) {
    auto boundary = multipart_boundary(content_type);
    if (!boundary) throw HttpError(400, "bad_request", "multipart/form-data without a valid boundary");
    if (body.size() > options.max_total_bytes) throw HttpError(413, "payload_too_large", "Request body too large");
    middleware::MultipartOptions in_memory = options;
    in_memory.memory_threshold = std::numeric_limits<std::size_t>::max();
    auto form = std::make_shared<FormData>();
    // The body is in memory already, on the budget; what it is parsed into is not counted again.
    middleware::Upload upload(in_memory, form, std::make_shared<middleware::FormCharge>());
    MultipartParser parser(*boundary, upload.handler());
    if (!parser.feed(body)) throw HttpError(400, "bad_request", std::string("Malformed multipart body: ") + parser.error());
    if (!parser.done()) throw HttpError(400, "bad_request", "Malformed multipart body: truncated");
    return form;
}

Task<> read_multipart(Request& req, middleware::MultipartOptions options) {
    const std::string_view content_type = req.header("Content-Type");
    auto boundary = multipart_boundary(content_type);
    if (!boundary) throw HttpError(400, "bad_request", "multipart/form-data without a valid boundary");

    auto form = std::make_shared<FormData>();
    // Held by the request: given back when it ends, with the form it counts.
    auto charge = std::make_shared<middleware::FormCharge>();
    charge->budget = memory_budget_of(req);
    req.locals().set(form_charge_key, charge);
    {
        middleware::Upload upload(options, form, charge);
        MultipartParser parser(*boundary, upload.handler());
        auto flush = [&upload] { upload.flush(); };
        std::size_t total = 0;
        for (;;) {
            std::string_view chunk = co_await req.read_body_chunk();
            if (chunk.empty()) break;
            total += chunk.size();
            if (total > options.max_total_bytes) throw HttpError(413, "payload_too_large", "Request body too large");
            if (!parser.feed(chunk))
                throw HttpError(400, "bad_request", std::string("Malformed multipart body: ") + parser.error());
            if (upload.has_pending()) co_await spur::offload(flush);
        }
        if (!parser.done()) throw HttpError(400, "bad_request", "Malformed multipart body: truncated");
        if (upload.has_pending()) co_await spur::offload(flush);
    }
    req.locals().set(form_locals_key, std::move(form));
}

}  // namespace spur::detail

namespace spur::middleware {

Middleware multipart(MultipartOptions options) {
    return [options](Request& req, Response&, Next next) -> Task<> {
        if (detail::media_type_is(req.header("Content-Type"), "multipart/form-data")) {
            Task<> reading = detail::read_multipart(req, options);  // named: GCC 12
            co_await std::move(reading);
        }
        co_await next();
    };
}

}  // namespace spur::middleware
