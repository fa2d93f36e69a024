#include <spur/password.hpp>

#include <catch2/catch.hpp>

TEST_CASE("bcrypt hashes verify and reject wrong passwords", "[security][password]") {
    auto h = spur::hash_password("correct horse battery", 4);
    CHECK(h.rfind("$2b$04$", 0) == 0);
    CHECK(h.size() == 60);
    CHECK(spur::verify_password("correct horse battery", h));
    CHECK_FALSE(spur::verify_password("correct horse batterx", h));
    CHECK_FALSE(spur::verify_password("", h));
    CHECK(spur::hash_password("same", 4) != spur::hash_password("same", 4));  // fresh salt each time
}

TEST_CASE("hashes made by Node's bcrypt package verify", "[security][password]") {
    // The OpenBSD test vector in its $2a$ and $2b$ spellings, and a $2b$ hash as node-bcrypt writes it.
    auto node_style = "$2b$10$" + spur::hash_password("password", 10).substr(7);
    CHECK(spur::verify_password("password", node_style));
    CHECK(spur::verify_password("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    CHECK(spur::verify_password("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

TEST_CASE("over-long, NUL-carrying passwords and malformed hashes are refused", "[security][password]") {
    CHECK_THROWS_AS(spur::hash_password(std::string(73, 'a'), 4), std::invalid_argument);
    CHECK_THROWS_AS(spur::hash_password(std::string("a\0b", 3), 4), std::invalid_argument);
    CHECK_THROWS_AS(spur::hash_password("x", 3), std::invalid_argument);
    CHECK_NOTHROW(spur::hash_password(std::string(72, 'a'), 4));
    CHECK_FALSE(spur::verify_password("x", "not a hash"));
    CHECK_FALSE(spur::verify_password("x", "$1$abcdefgh$abcdefghijklmnopqrstuv"));  // md5-crypt: not accepted
}

TEST_CASE("password_needs_rehash: below the configured cost or not bcrypt", "[security][password]") {
    const auto hash = spur::hash_password("correct horse", 10);
    CHECK_FALSE(spur::password_needs_rehash(hash, 10));
    CHECK_FALSE(spur::password_needs_rehash(hash, 4));
    CHECK(spur::password_needs_rehash(hash, 11));
    CHECK(spur::password_needs_rehash("", 10));
    CHECK(spur::password_needs_rehash("$1$md5crypt$whatever", 10));
    std::string unknown_variant(60, 'a');
    unknown_variant.replace(0, 7, "$2x$10$");
    CHECK(spur::password_needs_rehash(unknown_variant, 10));
}
