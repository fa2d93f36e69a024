#include "migrate.hpp"

#include <spur/mysql/idempotency_store.hpp>

#include <spur/mysql/jobs.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>

namespace app {

const std::vector<spur::mysql::Migration>& migrations() {
    static const std::vector<spur::mysql::Migration> all = [] {
        std::vector<spur::mysql::Migration> list = file_migrations();
        list.push_back(spur::mysql::Jobs::migration(10));  // the durable job queue the mails go through
        list.push_back(spur::mysql::IdempotencyStore::migration(11));  // Idempotency-Key answers, shared by the instances
        std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
        return list;
    }();
    return all;
}

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
