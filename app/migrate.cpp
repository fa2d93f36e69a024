#include "migrate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace app {

std::vector<int> migrations_now(const spur::mysql::Config& db, bool apply) {
    spur::mysql::Migrator migrator(db, migrations());
    boost::asio::io_context io;
    std::vector<spur::mysql::Migration> result;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, apply ? migrator.apply() : migrator.pending(),
                          [&](std::exception_ptr e, std::vector<spur::mysql::Migration> r) {
                              failure = e;
                              result = std::move(r);
                          });
    io.run();
    if (failure) std::rethrow_exception(failure);
    std::vector<int> versions;
    for (const auto& m : result) versions.push_back(m.version);
    return versions;
}

}  // namespace app
