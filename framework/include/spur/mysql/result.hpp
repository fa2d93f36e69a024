#pragma once
// spur::mysql::Result and Row — the outcome of a statement.

#include <spur/mysql/value.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spur::mysql {

/// One row; columns by index or by name.
class Row {
public:
    Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
        : columns_(std::move(columns)), values_(std::move(values)) {}

    std::size_t size() const noexcept { return values_.size(); }
    const Value& operator[](std::size_t index) const { return values_.at(index); }
    /// The column named `name`; throws spur::mysql::Error if there is none.
    const Value& operator[](std::string_view name) const;
    /// row.get<std::int64_t>("id"), row.get<std::optional<std::string>>(2), ...
    template <class T> T get(std::size_t index) const { return (*this)[index].as<T>(); }
    template <class T> T get(std::string_view name) const { return (*this)[name].as<T>(); }

private:
    std::shared_ptr<const std::vector<std::string>> columns_;
    std::vector<Value> values_;
};

/// Rows (for statements that return them), affected rows and the last insert id.
struct Result {
    std::vector<Row> rows;
    std::shared_ptr<const std::vector<std::string>> columns;
    std::uint64_t affected_rows = 0;
    std::uint64_t last_insert_id = 0;

    bool empty() const noexcept { return rows.empty(); }
    std::size_t size() const noexcept { return rows.size(); }
    const Row& front() const { return rows.front(); }
    auto begin() const noexcept { return rows.begin(); }
    auto end() const noexcept { return rows.end(); }
};

}  // namespace spur::mysql
