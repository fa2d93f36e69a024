#include <spur/middleware/compression.hpp>

#include <spur/http_error.hpp>
#include <spur/offload.hpp>
#include <spur/detail/response_access.hpp>
#include <spur/strings.hpp>

#include <boost/beast/core/string.hpp>
#include <zlib.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace spur::middleware {

namespace http = boost::beast::http;

namespace {

enum class Encoding { gzip, deflate };

bool default_compressible(std::string_view type) {
    if (type == "application/json") return true;  // most answers, without the parse below
    type = type.substr(0, type.find(';'));
    type = trim(type);
    auto starts = [&](std::string_view p) { return type.size() >= p.size() && boost::beast::iequals(type.substr(0, p.size()), p); };
    auto ends = [&](std::string_view p) {
        return type.size() >= p.size() && boost::beast::iequals(type.substr(type.size() - p.size()), p);
    };
    return starts("text/") || boost::beast::iequals(type, "application/json") ||
           boost::beast::iequals(type, "application/javascript") || boost::beast::iequals(type, "application/xml") ||
           boost::beast::iequals(type, "image/svg+xml") || ends("+json") || ends("+xml");
}

// The q-value of a coding in Accept-Encoding (RFC 9110 §12.5.3): explicit entry, else "*", else 0.
double quality(std::string_view header, std::string_view coding) {
    std::optional<double> exact;
    std::optional<double> any;
    ListItems items(header);
    while (auto next = items.next()) {
        auto item = *next;
        auto semi = item.find(';');
        auto name = trim(item.substr(0, semi));
        double q = 1.0;
        if (semi != std::string_view::npos) {
            auto param = trim(item.substr(semi + 1));
            if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                try {
                    q = std::stod(std::string(param.substr(2)));
                } catch (...) {
                    q = 0;
                }
            }
        }
        if (boost::beast::iequals(name, coding)) exact = q;
        else if (name == "*") any = q;
    }
    return exact ? *exact : any.value_or(0.0);
}

std::optional<Encoding> choose(std::string_view accept) {
    if (accept.empty()) return std::nullopt;
    double g = quality(accept, "gzip");
    double d = quality(accept, "deflate");
    if (g <= 0 && d <= 0) return std::nullopt;
    return g >= d ? Encoding::gzip : Encoding::deflate;
}

std::string deflate_body(const std::string& input, Encoding encoding, int level) {
    z_stream zs{};
    // windowBits 15 + 16 writes a gzip wrapper; plain 15 a zlib one (HTTP's "deflate").
    int window = encoding == Encoding::gzip ? 15 + 16 : 15;
    if (deflateInit2(&zs, level, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib deflateInit2 failed");
    std::string out;
    out.resize(deflateBound(&zs, static_cast<uLong>(input.size())));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zs.avail_in = static_cast<uInt>(input.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error("zlib deflate failed");
    return out;
}

bool skip(const Request& req, const Response& res) {
    const int status = res.status();
    return req.method() == "HEAD" || status < 200 || status == 204 || status == 206 || status == 304 ||
           res.producer() || !detail::ResponseAccess::value(res, http::field::content_encoding).empty();
}

// Cache-Control's no-transform directive (RFC 9111 §5.2: directive names are case-insensitive).
bool has_no_transform(std::string_view cache_control) {
    ListItems items(cache_control);
    while (auto item = items.next())
        if (boost::beast::iequals(trim(item->substr(0, item->find('='))), "no-transform")) return true;
    return false;
}

// Where a compressed body replaces the original: only when it is smaller.
void apply(Response& res, std::string compressed, Encoding encoding) {
    if (compressed.size() >= res.body().size()) return;
    res.body() = std::move(compressed);
    res.set("Content-Encoding", encoding == Encoding::gzip ? "gzip" : "deflate");
    if (auto etag = res.get("ETag"); !etag.empty() && etag.substr(0, 2) != "W/") res.set("ETag", "W/" + std::string(etag));
}

// The coding to compress the answer with, or none; adds Vary for every compressible answer,
// compressed or not, as a cache must not hand a compressed copy to a client that did not ask.
std::optional<Encoding> decide(const CompressionOptions& opts, const Request& req, Response& res) {
    // Fields by their enum: every answer passes here, and a lookup by name compares letters.
    using detail::ResponseAccess;
    if (skip(req, res) || !opts.compressible(ResponseAccess::value(res, http::field::content_type))) return std::nullopt;
    res.vary("Accept-Encoding");
    if (res.body().size() < opts.threshold) return std::nullopt;
    if (has_no_transform(ResponseAccess::value(res, http::field::cache_control))) return std::nullopt;
    return choose(req.header("Accept-Encoding"));
}

}  // namespace

Middleware compression(CompressionOptions options) {
    if (!options.compressible) options.compressible = default_compressible;
    if (options.level < 1 || options.level > 9) throw std::invalid_argument("compression level must be 1..9");
    auto opts = std::make_shared<const CompressionOptions>(std::move(options));
    // An after step: most answers are decided (and small ones compressed) in place; a body
    // above offload_above is compressed off the I/O thread, in `later`.
    auto step = [opts](Request& req, Response& res) {
        const auto encoding = decide(*opts, req, res);
        if (!encoding) return true;
        if (res.body().size() > opts->offload_above) return false;
        apply(res, deflate_body(res.body(), *encoding, opts->level), *encoding);
        return true;
    };
    auto later = [opts](Request& req, Response& res) -> Task<> {
        const auto encoding = decide(*opts, req, res);
        if (!encoding) co_return;
        const std::string& body = res.body();
        auto work = [&body, encoding = *encoding, level = opts->level] { return deflate_body(body, encoding, level); };
        std::optional<std::string> compressed;
        try {
            compressed = co_await spur::offload(work);
        } catch (const HttpError& e) {
            // The blocking pool is full: the answer goes out as it is rather than become a 503
            // (for a write, one the client would repeat after it had taken effect).
            if (e.status() != 503) throw;
        }
        if (compressed) apply(res, std::move(*compressed), *encoding);
    };
    return detail::AfterStep{std::move(step), std::move(later)};
}

}  // namespace spur::middleware
