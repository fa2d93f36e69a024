#include "server/framing.hpp"

#include <catch2/catch.hpp>

#include <vector>

using spur::detail::HeaderScanner;
using State = HeaderScanner::State;

namespace {
// Feeds `data` one byte at a time, as a slow client would, and returns the final state.
State feed_bytewise(HeaderScanner& s, std::string_view data) {
    State st = State::need_more;
    for (std::size_t n = 1; n <= data.size() && st == State::need_more; ++n) st = s.scan(data.substr(0, n));
    return st;
}
}  // namespace

TEST_CASE("the scanner finds the end of the header - whole or byte by byte", "[server][framing]") {
    std::string_view req = "GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    HeaderScanner whole(100, 100);
    CHECK(whole.scan(req) == State::complete);
    CHECK(whole.end() == req.find("BODY"));
    HeaderScanner slow(100, 100);
    CHECK(feed_bytewise(slow, req) == State::complete);
    CHECK(slow.end() == req.find("BODY"));
}

TEST_CASE("empty lines before the request line are skipped", "[server][framing]") {
    std::string_view req = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    HeaderScanner s(100, 100);
    CHECK(s.scan(req) == State::complete);
    CHECK(s.begin() == 4);
}

TEST_CASE("an overlong request line is 414 before its end arrives", "[server][framing]") {
    HeaderScanner s(16, 1000);
    CHECK(s.scan("GET /0123456789abcdef") == State::rejected);
    CHECK(s.rejection().status == 414);
}

TEST_CASE("more header fields than allowed are 431, however small each is", "[server][framing]") {
    std::string three = "GET / HTTP/1.1\r\nHost: a\r\na:\r\nb:\r\n\r\n";
    HeaderScanner enough(100, 1000, 3);
    CHECK(enough.scan(three) == State::complete);
    HeaderScanner fewer(100, 1000, 2);
    CHECK(fewer.scan(three) == State::rejected);
    CHECK(fewer.rejection().status == 431);
}

TEST_CASE("oversized header fields are 431", "[server][framing]") {
    HeaderScanner s(100, 32);
    CHECK(s.scan("GET / HTTP/1.1\r\nX-Long: " + std::string(40, 'a')) == State::rejected);
    CHECK(s.rejection().status == 431);
}

TEST_CASE("bare LF - bare CR - NUL and obs-fold are 400", "[server][framing]") {
    for (std::string_view bad : std::vector<std::string_view>{"GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
                                 std::string_view("GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", 27),
                                 "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n  folded\r\n\r\n",
                                 "GET / HTTP/1.1\r\n Host: a\r\n\r\n"}) {
        HeaderScanner s(100, 100);
        INFO(bad);
        CHECK(feed_bytewise(s, bad) == State::rejected);
        CHECK(s.rejection().status == 400);
    }
}

TEST_CASE("started() tells an idle peer from one that sent part of a request", "[server][framing]") {
    HeaderScanner s(100, 100);
    CHECK(s.scan("") == State::need_more);
    CHECK_FALSE(s.started());
    CHECK(s.scan("GE") == State::need_more);
    CHECK(s.started());
}

// The scanner skips eight bytes at a time while none is below 0x0E: a CR, LF or NUL (or a tab,
// which is allowed) at any offset of a long line, scanned whole, must be seen exactly as a
// byte-by-byte scan sees it.
TEST_CASE("a control byte anywhere in a long header line is found, scanned whole or byte by byte", "[server][framing]") {
    const std::string head = "GET /a/long/path/for/the/word/wise/skip HTTP/1.1\r\nHost: example.com\r\nX-Field: ";
    const std::string value(70, 'v');
    for (char c : {'\n', '\0', '\r', '\t', '\x0d', '\x0e', '\x7f'}) {
        for (std::size_t at = 0; at < value.size(); ++at) {
            std::string v = value;
            v[at] = c;
            const std::string req = head + v + "\r\n\r\n";
            HeaderScanner whole(1000, 1000), slow(1000, 1000);
            const State a = whole.scan(req);
            const State b = feed_bytewise(slow, req);
            INFO("byte " << static_cast<int>(static_cast<unsigned char>(c)) << " at " << at);
            CHECK(a == b);
            const bool allowed = c == '\t' || c == '\x0e' || c == '\x7f';
            CHECK(a == (allowed ? State::complete : State::rejected));
            if (allowed) CHECK(whole.end() == req.size());
        }
    }
}
