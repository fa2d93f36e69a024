#pragma once
// The binary protocol's buffers for one prepared-statement execution: the parameters going
// in, and the result columns coming out. No I/O here; Connection drives the statement.

#include <spur/mysql/value.hpp>

#include <mysql.h>

#include <vector>

namespace spur::mysql::detail {

/// Whether a column holds bytes rather than text: charset 63 ("binary") on a string or BLOB
/// type (numeric types such as DECIMAL carry that charset too, and are not bytes).
bool binary_column(const MYSQL_FIELD& field) noexcept;

/// MYSQL_BIND entries for `params`, with the storage they point into. `params` must outlive it.
class ParamBinds {
public:
    explicit ParamBinds(const std::vector<Value>& params);
    ParamBinds(const ParamBinds&) = delete;
    ParamBinds& operator=(const ParamBinds&) = delete;
    MYSQL_BIND* data() noexcept { return binds_.data(); }
    bool empty() const noexcept { return binds_.empty(); }

private:
    std::vector<MYSQL_BIND> binds_;
    std::vector<long long> ints_;
    std::vector<double> doubles_;
    std::vector<MYSQL_TIME> times_;
};

/// MYSQL_BIND entries for a stored result's columns (sized from max_length, so one fetch
/// never truncates), and the conversion of the fetched row into Values.
class ResultBinds {
public:
    explicit ResultBinds(MYSQL_RES* meta);
    ResultBinds(const ResultBinds&) = delete;
    ResultBinds& operator=(const ResultBinds&) = delete;
    MYSQL_BIND* data() noexcept { return binds_.data(); }
    /// The row mysql_stmt_fetch just filled in.
    std::vector<Value> row() const;

private:
    MYSQL_FIELD* fields_;
    std::vector<MYSQL_BIND> binds_;
    std::vector<long long> ints_;
    std::vector<double> doubles_;
    std::vector<MYSQL_TIME> times_;
    std::vector<std::vector<char>> bytes_;
    std::vector<unsigned long> lengths_;
    std::vector<my_bool> nulls_;
};

}  // namespace spur::mysql::detail
