// spur::Form: urlencoded and multipart bodies read as a described struct, files as
// spur::UploadedFile, problems listed with every other input's, and the OpenAPI requestBody.
#include <spur/contract/contract.hpp>

#include <spur/app.hpp>
#include <spur/form_data.hpp>
#include <spur/middleware/multipart.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/serving.hpp>
#include <spur/testing/client.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include "contract/violations.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace form_test {

struct Signup {
    spur::String<1, 20> name;
    spur::Int<18, 130> age;
    std::optional<bool> newsletter;
    std::vector<std::string> tag;
};
BOOST_DESCRIBE_STRUCT(Signup, (), (name, age, newsletter, tag))

struct Upload {
    spur::String<1, 40> title;
    spur::UploadedFile file;
    std::optional<spur::UploadedFile> thumbnail;
    std::vector<spur::UploadedFile> attachment;
};
BOOST_DESCRIBE_STRUCT(Upload, (), (title, file, thumbnail, attachment))

// Renames its member: the field is "e-mail", which no C++ name can spell.
struct Contact {
    spur::Email email;
    static std::string_view wire_name(std::string_view) { return "e-mail"; }
};
BOOST_DESCRIBE_STRUCT(Contact, (), (email))

}  // namespace form_test

namespace form_test {
namespace json = boost::json;
using spur::test::details;
using spur::test::has_violation;

namespace {

const spur::testing::Headers urlencoded = {{"Content-Type", "application/x-www-form-urlencoded"}};
const spur::testing::Headers multipart = {{"Content-Type", "multipart/form-data; boundary=XyZ"}};

std::string field_part(std::string_view name, std::string_view value) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" + std::string(value) + "\r\n";
}
std::string file_part(std::string_view name, std::string_view filename, std::string_view type, std::string_view bytes) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"; filename=\"" + std::string(filename) +
           "\"\r\nContent-Type: " + std::string(type) + "\r\n\r\n" + std::string(bytes) + "\r\n";
}
const std::string closing = "--XyZ--\r\n";

json::value file_json(const spur::UploadedFile& f) {
    std::string bytes = f.data;
    if (f.on_disk()) {
        std::ifstream in(f.path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    return {{"field", f.field}, {"filename", f.filename}, {"type", f.content_type}, {"size", f.size}, {"bytes", bytes},
            {"on_disk", f.on_disk()}};
}

spur::App form_app() {
    spur::App app;
    app.post("/signup", [](spur::Request&, spur::Response& res, spur::Form<Signup> f) {
        json::array tags;
        for (const auto& t : f->tag) tags.emplace_back(t);
        res.json({{"name", std::string(f->name)},
                  {"age", static_cast<std::int64_t>(f->age)},
                  {"newsletter", f->newsletter ? json::value(*f->newsletter) : json::value(nullptr)},
                  {"tags", std::move(tags)}});
    });
    auto upload = [](spur::Request&, spur::Response& res, spur::Form<Upload> f) {
        json::array attachments;
        for (const auto& a : f->attachment) attachments.push_back(file_json(a));
        res.json({{"title", std::string(f->title)},
                  {"file", file_json(f->file)},
                  {"thumbnail", f->thumbnail ? file_json(*f->thumbnail) : json::value(nullptr)},
                  {"attachments", std::move(attachments)}});
    };
    app.post("/upload", upload);
    // Large files stream to disk through the middleware; Form<T> reads what it parsed.
    spur::middleware::MultipartOptions spool;
    spool.memory_threshold = 4;
    app.post("/upload/streamed", spur::middleware::multipart(spool), upload).stream_body().body_limit(1 << 20);
    app.post("/upload/unparsed", upload).stream_body();
    app.post("/contact", [](spur::Request&, spur::Response& res, spur::Form<Contact> c, spur::Query<Signup>) {
        res.send(std::string(c->email));
    });
    app.get("/exists", [](spur::Request&, spur::Response& res) { res.send("ok"); });
    return app;
}

}  // namespace

TEST_CASE("Form<T> reads an urlencoded body - repeated fields into a vector", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto r = client.post("/signup", "name=Ada+L&age=36&newsletter=true&tag=a&tag=b%26c", urlencoded);
    REQUIRE(r.status == 200);
    CHECK(r.json() == json::parse(R"({"name":"Ada L","age":36,"newsletter":true,"tags":["a","b&c"]})"));

    // Optional whitespace before the parameters may be a tab (RFC 9110 OWS).
    CHECK(client.post("/signup", "name=Bo&age=40", {{"Content-Type", "application/x-www-form-urlencoded\t; charset=utf-8"}}).status == 200);

    auto optional_absent = client.post("/signup", "name=Bo&age=40", urlencoded);
    REQUIRE(optional_absent.status == 200);
    CHECK(optional_absent.json().at("newsletter").is_null());
    CHECK(optional_absent.json().at("tags").as_array().empty());
}

TEST_CASE("Form<T> reads the same struct from a multipart body", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto r = client.post("/signup", field_part("name", "Ada") + field_part("age", "36") + field_part("tag", "x") + closing, multipart);
    REQUIRE(r.status == 200);
    CHECK(r.json() == json::parse(R"({"name":"Ada","age":36,"newsletter":null,"tags":["x"]})"));
}

TEST_CASE("Form<T> problems are a ValidationError in the form - with every other input's", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto bad = client.post("/signup", "name=&age=12&newsletter=maybe", urlencoded);
    REQUIRE(bad.status == 422);
    CHECK(bad.json().at("error").at("code") == "validation_error");
    auto d = details(bad);
    CHECK(d.size() == 3);
    CHECK(has_violation(d, "form", "/name", "required"));
    CHECK(has_violation(d, "form", "/age", "minimum"));
    CHECK(has_violation(d, "form", "/newsletter", "type"));

    auto nothing = client.post("/signup", "");
    REQUIRE(nothing.status == 422);
    CHECK(has_violation(details(nothing), "form", "/name", "required"));
    CHECK(has_violation(details(nothing), "form", "/age", "required"));

    // The form and the query are checked together: one answer lists both.
    auto both = client.post("/contact?age=x", "e-mail=not-an-address", urlencoded);
    REQUIRE(both.status == 422);
    d = details(both);
    CHECK(has_violation(d, "form", "/e-mail", "format"));
    CHECK(has_violation(d, "query", "/name", "required"));
    CHECK(has_violation(d, "query", "/age", "type"));
    CHECK(client.post("/contact?name=n&age=20", "e-mail=a%40example.com", urlencoded).body == "a@example.com");
}

TEST_CASE("Form<T> answers 415 for a body that is not a form and 400 for a broken multipart body", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto json_body = client.post_json("/signup", {{"name", "Ada"}, {"age", 36}});
    CHECK(json_body.status == 415);
    CHECK(json_body.json().at("error").at("code") == "unsupported_media_type");

    auto no_boundary = client.post("/signup", field_part("name", "Ada") + closing, {{"Content-Type", "multipart/form-data"}});
    CHECK(no_boundary.status == 400);
    auto truncated = client.post("/signup", field_part("name", "Ada"), multipart);
    CHECK(truncated.status == 400);
    CHECK(truncated.json().at("error").at("message").as_string().find("truncated") != json::string::npos);

    std::string many;
    for (int i = 0; i < 101; ++i) many += field_part("tag", "t");
    auto too_many = client.post("/signup", many + closing, multipart);
    CHECK(too_many.status == 413);
    std::string fields = "name=a&age=20";
    for (int i = 0; i < 1000; ++i) fields += "&tag=t";
    CHECK(client.post("/signup", fields, urlencoded).status == 413);
}

TEST_CASE("Form<T> takes file parts as UploadedFile - one, optional and many", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto body = field_part("title", "Report") + file_part("file", "r.txt", "text/plain", "hello\r\nworld") +
                file_part("attachment", "a.bin", "application/octet-stream", std::string("\0\x01", 2)) +
                file_part("attachment", "b.csv", "text/csv", "1,2") + closing;
    auto r = client.post("/upload", body, multipart);
    REQUIRE(r.status == 200);
    const auto& j = r.json();
    CHECK(j.at("title") == "Report");
    CHECK(j.at("file") == json::parse(R"({"field":"file","filename":"r.txt","type":"text/plain","size":12,"bytes":"hello\r\nworld","on_disk":false})"));
    CHECK(j.at("thumbnail").is_null());
    REQUIRE(j.at("attachments").as_array().size() == 2);
    CHECK(j.at("attachments").at(0).at("size") == 2);
    CHECK(j.at("attachments").at(1).at("filename") == "b.csv");

    // A file input left empty arrives as a part with no filename and no bytes: it is absent.
    auto empty_input = client.post("/upload", field_part("title", "T") + file_part("file", "", "application/octet-stream", "") + closing, multipart);
    REQUIRE(empty_input.status == 422);
    CHECK(has_violation(details(empty_input), "form", "/file", "required"));

    // A file's name is text like any field's: not UTF-8, or with a control character, is refused.
    for (std::string bad : {std::string("\xff\xfe.txt"), std::string("a\0b.txt", 7), std::string("a\x1b[2J.txt")}) {
        auto r2 = client.post("/upload", field_part("title", "T") + file_part("file", bad, "text/plain", "x") + closing, multipart);
        REQUIRE(r2.status == 422);
        CHECK(has_violation(details(r2), "form", "/file", "format"));
    }

    // A file where a field belongs and a field where a file belongs are both type errors.
    auto swapped = client.post("/upload", file_part("title", "t.txt", "text/plain", "x") + field_part("file", "x") + closing, multipart);
    REQUIRE(swapped.status == 422);
    CHECK(has_violation(details(swapped), "form", "/title", "type"));
    CHECK(has_violation(details(swapped), "form", "/file", "type"));
}

TEST_CASE("Form<T> on a stream_body route reads what middleware::multipart streamed to disk - or reads the form itself", "[contract]") {
    auto app = form_app();
    spur::testing::Client client(app);
    auto body = field_part("title", "Big") + file_part("file", "big.txt", "text/plain", "more than four bytes") + closing;
    auto r = client.post("/upload/streamed", body, multipart);
    REQUIRE(r.status == 200);
    CHECK(r.json().at("file").at("on_disk") == true);
    CHECK(r.json().at("file").at("bytes") == "more than four bytes");

    // Without the middleware Form<T> reads the form itself (over a socket, files stream to
    // disk: tests/server/lazy_body_test.cpp); a body that is no form is 415 on any route.
    auto unparsed = client.post("/upload/unparsed", body, multipart);
    CHECK(unparsed.status == 200);
    CHECK(client.post("/upload/unparsed", "title=t", urlencoded).status == 422);  // no file: required
    CHECK(client.post("/upload/unparsed", "x", {{"Content-Type", "text/plain"}}).status == 415);
    CHECK(client.post("/upload/streamed", "", {}).status == 422);  // nothing sent: an empty form, its fields required
}

TEST_CASE("Form inputs are an OpenAPI requestBody - multipart only when it takes files", "[contract][openapi]") {
    auto app = form_app();
    spur::openapi(app, {});
    const auto doc = spur::openapi_document(app);
    const auto& signup = doc.at("paths").at("/signup").at("post");
    const auto& content = signup.at("requestBody").at("content").as_object();
    REQUIRE(content.contains("application/x-www-form-urlencoded"));
    REQUIRE(content.contains("multipart/form-data"));
    const auto& schema = content.at("application/x-www-form-urlencoded").at("schema");
    CHECK(schema.at("properties").at("age").at("minimum") == 18);
    CHECK(schema.at("properties").at("tag").at("type") == "array");
    CHECK(schema.at("required") == json::parse(R"(["name","age"])"));
    for (const char* status : {"400", "413", "415", "422"}) CHECK(signup.at("responses").as_object().contains(status));

    const auto& upload = doc.at("paths").at("/upload").at("post").at("requestBody").at("content").as_object();
    CHECK_FALSE(upload.contains("application/x-www-form-urlencoded"));
    const auto& props = upload.at("multipart/form-data").at("schema").at("properties");
    CHECK(props.at("file") == json::parse(R"({"type":"string","format":"binary"})"));
    CHECK(props.at("attachment").at("items").at("format") == "binary");
    CHECK(upload.at("multipart/form-data").at("schema").at("required") == json::parse(R"(["title","file"])"));

    const auto& renamed = doc.at("paths").at("/contact").at("post").at("requestBody").at("content");
    CHECK(renamed.at("multipart/form-data").at("schema").at("properties").as_object().contains("e-mail"));
    const auto& in_enum = doc.at("components").at("schemas").at("Violation").at("properties").at("in").at("enum").as_array();
    CHECK(std::find(in_enum.begin(), in_enum.end(), json::value("form")) != in_enum.end());
}

TEST_CASE("a handler taking both Body and Form is refused when it is registered", "[contract]") {
    spur::App app;
    CHECK_THROWS_AS(app.post("/both", [](spur::Request&, spur::Response&, spur::Body<Signup>, spur::Form<Signup>) {}),
                    std::logic_error);
}

}  // namespace form_test
