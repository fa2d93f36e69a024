// spur-app's compiled-in migrations (app/embed_migrations.cmake) against the files they come from.
#include "migrate.hpp"

#include <catch2/catch.hpp>

TEST_CASE("the compiled-in migrations are app/migrations byte for byte, so both sources record one checksum", "[app]") {
    const auto files = spur::mysql::read_migrations(SPUR_APP_MIGRATIONS_DIR);
    const auto& embedded = app::migrations();
    REQUIRE(embedded.size() == files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        CHECK(embedded[i].version == files[i].version);
        CHECK(embedded[i].name == files[i].name);
        CHECK(spur::mysql::migration_checksum(embedded[i].sql) == spur::mysql::migration_checksum(files[i].sql));
    }
}
