// Query strings, Cookie headers, percent-decoding and multipart bodies. The first byte picks
// the parser; for multipart the first line is the boundary. Oracle: no crash or sanitizer
// report, and decoded output never longer than its input.
#include <spur/http/cookie.hpp>

#include "middleware/multipart_parser.hpp"
#include "util/url.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0:
            for (const auto& [k, v] : spur::detail::parse_query(in))
                if (k.size() + v.size() > in.size()) __builtin_trap();
            break;
        case 1:
            for (const auto& [k, v] : spur::parse_cookie_header(in))
                if (k.size() + v.size() > in.size()) __builtin_trap();
            break;
        case 2:
            if (auto d = spur::detail::percent_decode(in, true); d && d->size() > in.size()) __builtin_trap();
            break;
        case 3: {
            auto eol = in.find('\n');
            if (eol == std::string_view::npos || eol == 0 || eol > 70) return 0;
            spur::detail::MultipartParser::Handler h;
            std::size_t parts = 0;
            h.on_part = [&](auto&&) { ++parts; };
            h.on_data = [](std::string_view) {};
            h.on_part_end = [] {};
            spur::detail::MultipartParser parser(std::string(in.substr(0, eol)), h);
            // Fed in two pieces so that boundaries split across reads are exercised too.
            auto body = in.substr(eol + 1);
            auto half = body.size() / 2;
            if (parser.feed(body.substr(0, half))) parser.feed(body.substr(half));
            break;
        }
    }
    return 0;
}
