#pragma once
// The URL of the private test MariaDB: SPUR_TEST_DATABASE_URL, or the file named by
// SPUR_TEST_DATABASE_URL_FILE (CTest's way: scripts/mariadb.sh writes the URL, with its
// per-directory random password, to a 0600 file when the fixture starts).

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace spur::test {

inline std::string database_url() {
    if (const char* url = std::getenv("SPUR_TEST_DATABASE_URL")) return url;
    if (const char* file = std::getenv("SPUR_TEST_DATABASE_URL_FILE")) {
        std::ifstream in(file);
        std::string url;
        if (in && std::getline(in, url) && !url.empty()) return url;
        throw std::runtime_error(std::string("cannot read the test database URL from ") + file);
    }
    throw std::runtime_error("SPUR_TEST_DATABASE_URL(_FILE) is not set: run the tests through ctest or scripts/test.sh");
}

}  // namespace spur::test
