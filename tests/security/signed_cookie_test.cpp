#include <spur/signed_cookie.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include "security/base64.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

using namespace spur;

namespace {
const std::string signing_secret(32, 'k');
const std::string other(32, 'o');
}  // namespace

TEST_CASE("a signed value verifies and any change to it is rejected", "[security][signed_cookie]") {
    CookieSigner signer(signing_secret);
    auto s = signer.sign("session", "user=42");
    CHECK(signer.verify("session", s) == std::optional<std::string>("user=42"));

    auto tampered = s;
    tampered[5] = '3';  // user=43
    CHECK_FALSE(signer.verify("session", tampered));
    auto bad_sig = s;
    bad_sig.back() = bad_sig.back() == 'A' ? 'B' : 'A';
    CHECK_FALSE(signer.verify("session", bad_sig));
    CHECK_FALSE(signer.verify("session", "user=42"));                  // unsigned
    CHECK_FALSE(signer.verify("session", "user=42."));                 // empty signature
    CHECK_FALSE(signer.verify("other_cookie", s));                     // moved to another cookie
    CHECK_FALSE(CookieSigner(other).verify("session", s));             // another key
}

TEST_CASE("a cookie's signature is HMAC-SHA256 of name=value under the current secret", "[security][signed_cookie]") {
    // OpenSSL's one-shot HMAC as the reference for spur's keyed-once contexts.
    auto reference = [](const std::string& key, const std::string& message) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
             message.size(), d, &n);
        return spur::detail::base64url_encode(std::string(reinterpret_cast<char*>(d), n));
    };
    CookieSigner rotated(signing_secret, {other});
    CHECK(rotated.sign("sid", "v1") == "v1." + reference(signing_secret, "sid=v1"));
    CHECK(CookieSigner(other).sign("sid", "v1") == "v1." + reference(other, "sid=v1"));
    CHECK(rotated.sign("sid", "v1") == "v1." + reference(signing_secret, "sid=v1"));  // after another key, on this thread
}

TEST_CASE("short secrets are refused and previous secrets still verify", "[security][signed_cookie]") {
    CHECK_THROWS_AS(CookieSigner("short"), std::invalid_argument);
    CHECK_THROWS_AS(CookieSigner(signing_secret, {"old-but-short"}), std::invalid_argument);
    auto old_signed = CookieSigner(other).sign("sid", "v");
    CookieSigner rotated(signing_secret, {other});
    CHECK(rotated.verify("sid", old_signed) == std::optional<std::string>("v"));
    CHECK(rotated.sign("sid", "v") != old_signed);  // new cookies use the new secret
}

TEST_CASE("signed cookies round-trip through responses and requests", "[security][signed_cookie]") {
    CookieSigner signer(signing_secret);
    App app;
    app.get("/set", [&](Request&, Response& res) { signer.set(res, "prefs", "theme=dark; lang=de"); res.end(); });
    app.get("/get", [&](Request& req, Response& res) { res.send(signer.get(req, "prefs").value_or("<rejected>")); });
    testing::Client c(app);
    auto set = c.get("/set");
    std::string header(set.header("Set-Cookie"));
    std::string pair = header.substr(0, header.find(';'));
    CHECK(c.get("/get", {{"Cookie", pair}}).body == "theme=dark; lang=de");
    std::string forged = "prefs=" + std::string("theme=light.") + pair.substr(pair.rfind('.') + 1);
    CHECK(c.get("/get", {{"Cookie", forged}}).body == "<rejected>");
    CHECK(c.get("/get").body == "<rejected>");
}

TEST_CASE("base64url round-trips and rejects non-canonical input", "[security][signed_cookie]") {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\xfe", 3)}) {
        auto e = detail::base64url_encode(s);
        CHECK(e.find_first_of("+/=") == std::string::npos);
        CHECK(detail::base64url_decode(e) == std::optional<std::string>(s));
    }
    CHECK(detail::base64url_encode("foobar") == "Zm9vYmFy");
    CHECK_FALSE(detail::base64url_decode("Zm9v+mFy"));
    CHECK_FALSE(detail::base64url_decode("Zm9=") );
    CHECK_FALSE(detail::base64url_decode("Z"));
    CHECK_FALSE(detail::base64url_decode("Zh"));  // non-zero leftover bits
    CHECK(detail::base64url_decode("Zm9vYmE") == std::optional<std::string>("fooba"));
    CHECK_FALSE(detail::base64url_decode("Zm9vYmF"));  // three characters left, two bits over: not zero
    CHECK(detail::base64url_decode("Zm9vYg") == std::optional<std::string>("foob"));
    CHECK_FALSE(detail::base64url_decode("Zm9vYh"));
    // Every length from 0 to 40 and every byte value, against the encoder; a character outside
    // the alphabet at each position of the encoding is refused.
    std::string bytes;
    for (int i = 0; i < 40; ++i) {
        bytes.push_back(static_cast<char>((i * 97 + 13) & 0xFF));
        const auto encoded = detail::base64url_encode(bytes);
        CHECK(detail::base64url_decode(encoded) == std::optional<std::string>(bytes));
        for (std::size_t at = 0; at < encoded.size(); ++at) {
            for (char bad : {'=', '+', '/', '.', '\0'}) {
                auto broken = encoded;
                broken[at] = bad;
                CHECK_FALSE(detail::base64url_decode(broken));
            }
        }
    }
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    CHECK(detail::base64url_decode(detail::base64url_encode(all)) == std::optional<std::string>(all));
}
