#include <spur/jwt.hpp>

#include "security/base64.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

using spur::Jwt;
using namespace std::chrono;
namespace b64 = spur::detail;

namespace {
const std::string jwt_secret(32, 's');
const auto now = system_clock::from_time_t(1'700'000'000);
boost::json::object claims(std::int64_t exp_offset = 3600) {
    return {{"sub", "42"}, {"iat", 1'700'000'000}, {"exp", 1'700'000'000 + exp_offset}, {"jti", "abc"}};
}
// A token with any header/payload, signed with `key` by HMAC-SHA256 (or not at all).
std::string forge(const std::string& header, const boost::json::object& payload, const std::string& key, bool sign = true) {
    std::string input = b64::base64url_encode(header) + "." + b64::base64url_encode(boost::json::serialize(payload));
    if (!sign) return input + ".";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), d, &n);
    return input + "." + b64::base64url_encode(std::string(reinterpret_cast<char*>(d), n));
}
}  // namespace

TEST_CASE("a signed token verifies and returns its claims", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    auto token = jwt.sign(claims());
    auto c = jwt.verify(token, now);
    REQUIRE(c);
    CHECK(c->at("sub") == "42");
    CHECK(c->at("jti") == "abc");
}

TEST_CASE("the JWT attack table is refused", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    const auto good = jwt.sign(claims());
    const auto dot = good.rfind('.');
    std::vector<std::pair<std::string, std::string>> attacks = {
        {"alg none", forge(R"({"alg":"none","typ":"JWT"})", claims(), jwt_secret, false)},
        {"alg None", forge(R"({"alg":"None"})", claims(), jwt_secret, false)},
        {"alg NONE", forge(R"({"alg":"NONE"})", claims(), jwt_secret, false)},
        {"alg nOnE signed", forge(R"({"alg":"nOnE"})", claims(), jwt_secret)},
        {"alg hs256 lowercase", forge(R"({"alg":"hs256"})", claims(), jwt_secret)},
        {"HS512 with our key", forge(R"({"alg":"HS512"})", claims(), jwt_secret)},
        {"RS256 header (HS/RS confusion)", forge(R"({"alg":"RS256"})", claims(), jwt_secret)},
        {"missing alg", forge(R"({"typ":"JWT"})", claims(), jwt_secret)},
        {"empty signature", good.substr(0, dot + 1)},
        {"stripped signature", good.substr(0, dot)},
        {"wrong key", forge(R"({"alg":"HS256"})", claims(), std::string(32, 'x'))},
        {"kid injection", forge(R"({"alg":"HS256","kid":"../../dev/null"})", claims(), "")},
        {"jku injection", forge(R"({"alg":"HS256","jku":"https://evil.example/jwks"})", claims(), std::string(32, 'e'))},
        {"jwk injection", forge(R"({"alg":"HS256","jwk":{"kty":"oct","k":"ZXZpbA"}})", claims(), "evil")},
        {"crit extension", forge(R"({"alg":"HS256","crit":["x"],"x":1})", claims(), jwt_secret)},
        {"expired", jwt.sign(claims(-1))},
        {"exp now", jwt.sign(claims(0))},
        {"missing exp", jwt.sign({{"sub", "42"}})},
        {"string exp", jwt.sign({{"sub", "42"}, {"exp", "9999999999"}})},
        {"not yet valid", jwt.sign({{"sub", "42"}, {"exp", 1'800'000'000}, {"nbf", 1'700'000'100}})},
        {"issued in the future", jwt.sign({{"sub", "42"}, {"exp", 1'800'000'000}, {"iat", 1'700'000'100}})},
        {"payload tampered", [&] {
             auto parts = good;
             auto first = parts.find('.');
             auto payload = b64::base64url_encode(R"({"sub":"1","exp":1800000000})");
             return parts.substr(0, first + 1) + payload + parts.substr(dot);
         }()},
        {"garbage", "a.b.c"},
        {"two parts", "abc.def"},
        {"four parts", good + ".x"},
        {"empty", ""},
    };
    for (const auto& [name, token] : attacks) {
        INFO(name);
        CHECK_FALSE(jwt.verify(token, now));
    }
    CHECK(jwt.verify(good, now));  // and the real one still passes
}

TEST_CASE("short secrets are refused and leeway tolerates clock skew", "[security][jwt]") {
    CHECK_THROWS_AS(Jwt("short"), std::invalid_argument);
    Jwt strict(jwt_secret), lenient(jwt_secret, seconds(30));
    auto token = strict.sign(claims(-10));
    CHECK_FALSE(strict.verify(token, now));
    CHECK(lenient.verify(token, now));
}

// Each thread keeps keyed HMAC contexts for the last few keys it used (security/hmac.cpp):
// more keys than it keeps, several threads, and a key made where a destroyed one lived must
// never sign with another's secret.
TEST_CASE("tokens of many secrets, signed on several threads, each verify with their own secret only",
          "[security][jwt][concurrency]") {
    std::vector<std::string> secrets;
    for (char c = 'a'; c < 'a' + 6; ++c) secrets.emplace_back(40, c);
    const std::string header = R"({"alg":"HS256","typ":"JWT"})";
    auto round = [&](std::vector<std::string>& failures) {
        std::vector<Jwt> jwts;
        for (const auto& s : secrets) jwts.emplace_back(s);
        for (int pass = 0; pass < 3; ++pass) {
            for (std::size_t i = 0; i < jwts.size(); ++i) {
                const auto token = jwts[i].sign(claims());
                // The same bytes as OpenSSL's one-shot HMAC with this secret, not another's.
                if (token != forge(header, claims(), secrets[i])) failures.push_back("sign " + std::to_string(i));
                for (std::size_t j = 0; j < jwts.size(); ++j)
                    if (static_cast<bool>(jwts[j].verify(token, now)) != (i == j))
                        failures.push_back("verify " + std::to_string(i) + " with " + std::to_string(j));
            }
        }
    };
    std::vector<std::string> main_failures, a_failures, b_failures;
    std::thread a([&] { round(a_failures); });
    std::thread b([&] { round(b_failures); });
    round(main_failures);
    a.join();
    b.join();
    CHECK(main_failures.empty());
    CHECK(a_failures.empty());
    CHECK(b_failures.empty());

    // A Jwt destroyed and another made in its place, with another secret, on the same thread.
    std::string old_token;
    {
        Jwt gone(secrets[0]);
        old_token = gone.sign(claims());
        CHECK(gone.verify(old_token, now));
    }
    Jwt replacement(secrets[1]);
    CHECK_FALSE(replacement.verify(old_token, now));
    CHECK(replacement.sign(claims()) == forge(header, claims(), secrets[1]));
}

// Jwt::verify remembers, per thread, the tokens it accepted (security/verified_tokens.cpp),
// from their second visit on. What it remembers is the signature's verdict on those exact
// bytes under that key: the clock, any other byte string, and any other key must all still
// be checked.
namespace {
// Verifies `token` until this thread remembers it (its first visit keeps only a hash).
bool remembered(const Jwt& jwt, const std::string& token, system_clock::time_point at) {
    return jwt.verify(token, at) && jwt.verify(token, at) && jwt.verify(token, at);
}
}  // namespace

TEST_CASE("a remembered token still has its times checked on every use", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    const auto token = jwt.sign(claims(3600));
    REQUIRE(remembered(jwt, token, now));
    CHECK_FALSE(jwt.verify(token, now + hours(2)));  // expired since
    CHECK(jwt.verify(token, now + minutes(59)));

    const auto later = jwt.sign({{"sub", "7"}, {"exp", 1'700'010'000}, {"nbf", 1'700'000'500}});
    REQUIRE(remembered(jwt, later, now + seconds(600)));
    CHECK_FALSE(jwt.verify(later, now));  // remembered, but not valid yet at this time
    CHECK(jwt.verify(later, now + seconds(600))->at("sub") == "7");

    // A Jwt with leeway gives a remembered token the same tolerance, and no more.
    Jwt lenient(jwt_secret, seconds(30));
    const auto expiring = lenient.sign(claims(-10));
    CHECK(remembered(lenient, expiring, now));
    CHECK_FALSE(lenient.verify(expiring, now + seconds(25)));
}

TEST_CASE("a remembered token's neighbours are refused: every byte changed, cut or extended", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    const auto token = jwt.sign(claims());
    REQUIRE(remembered(jwt, token, now));
    std::vector<std::size_t> accepted;
    for (std::size_t i = 0; i < token.size(); ++i) {
        auto changed = token;
        changed[i] = changed[i] == '*' ? '-' : '*';
        if (jwt.verify(changed, now)) accepted.push_back(i);
    }
    CHECK(accepted.empty());
    CHECK_FALSE(jwt.verify(token.substr(0, token.size() - 1), now));
    CHECK_FALSE(jwt.verify(token + "A", now));
    CHECK_FALSE(jwt.verify(token.substr(1), now));
    // The same claims signed with another secret: refused, though the payload is remembered.
    CHECK_FALSE(jwt.verify(forge(R"({"alg":"HS256","typ":"JWT"})", claims(), std::string(32, 'x')), now));
    CHECK(jwt.verify(token, now));
}

TEST_CASE("more tokens than a thread remembers each verify to their own claims", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    std::vector<std::string> tokens;
    for (int i = 0; i < 300; ++i) tokens.push_back(jwt.sign({{"sub", std::to_string(i)}, {"exp", 1'700'003'600}}));
    std::vector<int> wrong;
    for (int pass = 0; pass < 3; ++pass) {
        for (int i = 0; i < 300; ++i) {
            auto c = jwt.verify(tokens[static_cast<std::size_t>(i)], now);
            if (!c || std::string_view(c->at("sub").as_string()) != std::to_string(i)) wrong.push_back(i);
        }
    }
    CHECK(wrong.empty());
    // A token too long to remember verifies, and expires, like any other.
    const auto long_token = jwt.sign({{"sub", "9"}, {"exp", 1'700'003'600}, {"pad", std::string(2000, 'p')}});
    CHECK(remembered(jwt, long_token, now));
    CHECK_FALSE(jwt.verify(long_token, now + hours(2)));
}

TEST_CASE("a Jwt moved from refuses to verify, remembered tokens or not", "[security][jwt]") {
    Jwt jwt(jwt_secret);
    const auto token = jwt.sign(claims());
    REQUIRE(remembered(jwt, token, now));
    Jwt moved = std::move(jwt);
    CHECK(moved.verify(token, now));
    CHECK_THROWS_AS(jwt.verify(token, now), std::logic_error);  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("dates that are not dates are refused, and dates near the end of time do not overflow", "[security][jwt]") {
    Jwt jwt(jwt_secret), lenient(jwt_secret, seconds(300));
    const std::int64_t end = std::numeric_limits<std::int64_t>::max();
    CHECK_FALSE(jwt.verify(jwt.sign({{"sub", "1"}, {"exp", 1'800'000'000}, {"iat", -0.5}}), now));
    CHECK_FALSE(jwt.verify(jwt.sign({{"sub", "1"}, {"exp", 1e300}}), now));
    CHECK_FALSE(jwt.verify(jwt.sign({{"sub", "1"}, {"exp", -1e300}}), now));
    CHECK(jwt.verify(jwt.sign({{"sub", "1"}, {"exp", 1'700'003'600.5}, {"iat", 1'699'999'999.5}}), now));
    // Added to the leeway, the end of int64 would overflow: it is simply far in the future.
    CHECK(remembered(lenient, lenient.sign({{"sub", "1"}, {"exp", end}}), now));
    CHECK_FALSE(lenient.verify(lenient.sign({{"sub", "1"}, {"exp", end}, {"nbf", end}}), now));
}

namespace {
// Verifies a token from its destructor: a thread_local destroyed after the thread's keys and
// remembered tokens (made after it, so destroyed before it).
struct VerifiesOnExit {
    const Jwt* jwt = nullptr;
    std::string token;
    std::vector<bool>* results = nullptr;
    ~VerifiesOnExit() {
        if (!jwt) return;
        for (int i = 0; i < 3; ++i) results->push_back(static_cast<bool>(jwt->verify(token, now)));
        results->push_back(static_cast<bool>(jwt->verify(token + "x", now)));
    }
};
}  // namespace

TEST_CASE("a thread_local's destructor verifies after the thread's own memory is gone", "[security][jwt][concurrency]") {
    Jwt jwt(jwt_secret);
    const auto token = jwt.sign(claims());
    std::vector<bool> results;
    std::thread t([&] {
        thread_local VerifiesOnExit late;
        late.jwt = &jwt;
        late.token = token;
        late.results = &results;
        (void)remembered(jwt, token, now);  // the keys and tokens made now: destroyed before `late`
    });
    t.join();
    CHECK(results == std::vector<bool>{true, true, true, false});
}
