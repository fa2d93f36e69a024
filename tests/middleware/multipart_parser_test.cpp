#include "middleware/multipart_parser.hpp"

#include <catch2/catch.hpp>

using spur::detail::MultipartParser;
using spur::detail::PartInfo;

namespace {
struct Collected {
    std::vector<PartInfo> parts;
    std::vector<std::string> data;
    int ends = 0;
    MultipartParser::Handler handler() {
        return {[this](PartInfo&& p) {
                    parts.push_back(std::move(p));
                    data.emplace_back();
                },
                [this](std::string_view d) { data.back().append(d); }, [this] { ++ends; }};
    }
};
const std::string body =
    "preamble to ignore\r\n"
    "--B0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nline1\r\nline2 --B0und\r\n"
    "--B0undary  \r\nContent-Disposition: form-data; name=\"doc\"; filename=\"q\\\"uote.txt\"\r\n"
    "Content-Type: text/markdown\r\n\r\n# Hi\r\n"
    "--B0undary\r\ncontent-disposition: FORM-DATA; name=file; filename*=UTF-8''%E2%82%AC.txt\r\n\r\n\r\n"
    "--B0undary--\r\nepilogue";
}  // namespace

TEST_CASE("the multipart parser gives the same parts for any split of the input", "[middleware][multipart]") {
    for (std::size_t step : {body.size(), std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(13)}) {
        INFO("step " << step);
        Collected c;
        MultipartParser p("B0undary", c.handler());
        for (std::size_t i = 0; i < body.size(); i += step) REQUIRE(p.feed(std::string_view(body).substr(i, step)));
        CHECK(p.done());
        REQUIRE(c.parts.size() == 3);
        CHECK(c.parts[0].name == "title");
        CHECK_FALSE(c.parts[0].filename);
        CHECK(c.data[0] == "line1\r\nline2 --B0und");
        CHECK(c.parts[1].filename == std::optional<std::string>("q\"uote.txt"));
        CHECK(c.parts[1].content_type == "text/markdown");
        CHECK(c.data[1] == "# Hi");
        CHECK(c.parts[2].name == "file");
        CHECK(c.parts[2].filename == std::optional<std::string>("\xE2\x82\xAC.txt"));
        CHECK(c.data[2].empty());
        CHECK(c.ends == 3);
    }
}

TEST_CASE("boundaries are read from the content type and validated", "[middleware][multipart]") {
    using spur::detail::multipart_boundary;
    CHECK(multipart_boundary("multipart/form-data; boundary=abc") == std::optional<std::string>("abc"));
    CHECK(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"") == std::optional<std::string>("a b;c"));
    CHECK_FALSE(multipart_boundary("multipart/form-data"));
    CHECK_FALSE(multipart_boundary("multipart/mixed; boundary=abc"));
    CHECK_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST_CASE("oversized part headers and junk after a delimiter are refused", "[middleware][multipart]") {
    Collected c;
    MultipartParser p("B", c.handler(), 100);
    CHECK_FALSE(p.feed("--B\r\nContent-Disposition: form-data; name=\"" + std::string(200, 'n') + "\"\r\n\r\n"));
    Collected d;
    MultipartParser q("B", d.handler());
    CHECK_FALSE(q.feed("--B junk\r\n"));
}
