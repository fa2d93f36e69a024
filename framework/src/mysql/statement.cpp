#include "mysql/statement.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace spur::mysql::detail {

bool binary_column(const MYSQL_FIELD& f) noexcept {
    switch (f.type) {
        case MYSQL_TYPE_BLOB: case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB: case MYSQL_TYPE_LONG_BLOB:
        case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_VARCHAR:
            return f.charsetnr == 63;
        default:
            return false;
    }
}

ParamBinds::ParamBinds(const std::vector<Value>& params)
    : binds_(params.size()), ints_(params.size()), doubles_(params.size()), times_(params.size()) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        MYSQL_BIND& b = binds_[i];
        const Value& v = params[i];
        switch (v.kind()) {
            case Value::Kind::null: b.buffer_type = MYSQL_TYPE_NULL; break;
            case Value::Kind::int64:
                ints_[i] = v.as_int64();
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &ints_[i];
                break;
            case Value::Kind::uint64:
                ints_[i] = static_cast<long long>(v.as_uint64());
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &ints_[i];
                b.is_unsigned = 1;
                break;
            case Value::Kind::double_:
                doubles_[i] = v.as_double();
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &doubles_[i];
                break;
            case Value::Kind::text:
            case Value::Kind::blob: {
                auto s = v.as_string();
                b.buffer_type = v.kind() == Value::Kind::blob ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
                b.buffer = const_cast<char*>(s.data());
                b.buffer_length = s.size();
                break;
            }
            case Value::Kind::datetime: {
                const DateTime& d = v.as_datetime();
                MYSQL_TIME& t = times_[i];
                t.year = static_cast<unsigned>(d.year);
                t.month = static_cast<unsigned>(d.month);
                t.day = static_cast<unsigned>(d.day);
                t.hour = static_cast<unsigned>(d.hour);
                t.minute = static_cast<unsigned>(d.minute);
                t.second = static_cast<unsigned>(d.second);
                t.second_part = static_cast<unsigned long>(d.microsecond);
                t.time_type = MYSQL_TIMESTAMP_DATETIME;
                b.buffer_type = MYSQL_TYPE_DATETIME;
                b.buffer = &t;
                break;
            }
        }
    }
}

ResultBinds::ResultBinds(MYSQL_RES* meta) : fields_(mysql_fetch_fields(meta)) {
    const unsigned n = mysql_num_fields(meta);
    binds_.resize(n);
    ints_.resize(n);
    doubles_.resize(n);
    times_.resize(n);
    bytes_.resize(n);
    lengths_.resize(n);
    nulls_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        MYSQL_BIND& b = binds_[i];
        b.length = &lengths_[i];
        b.is_null = &nulls_[i];
        switch (fields_[i].type) {
            case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG: case MYSQL_TYPE_LONGLONG:
            case MYSQL_TYPE_INT24: case MYSQL_TYPE_YEAR:
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &ints_[i];
                b.is_unsigned = (fields_[i].flags & UNSIGNED_FLAG) ? 1 : 0;
                break;
            case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &doubles_[i];
                break;
            case MYSQL_TYPE_DATE: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP:
                b.buffer_type = MYSQL_TYPE_DATETIME;
                b.buffer = &times_[i];
                break;
            default:
                bytes_[i].resize(std::max<unsigned long>(1, fields_[i].max_length));
                b.buffer_type = MYSQL_TYPE_BLOB;
                b.buffer = bytes_[i].data();
                b.buffer_length = bytes_[i].size();
                break;
        }
    }
}

std::vector<Value> ResultBinds::row() const {
    std::vector<Value> values;
    values.reserve(binds_.size());
    for (std::size_t i = 0; i < binds_.size(); ++i) {
        if (nulls_[i]) {
            values.emplace_back();
            continue;
        }
        switch (binds_[i].buffer_type) {
            case MYSQL_TYPE_LONGLONG:
                if (binds_[i].is_unsigned) values.emplace_back(static_cast<std::uint64_t>(ints_[i]));
                else values.emplace_back(static_cast<std::int64_t>(ints_[i]));
                break;
            case MYSQL_TYPE_DOUBLE: values.emplace_back(doubles_[i]); break;
            case MYSQL_TYPE_DATETIME: {
                const MYSQL_TIME& t = times_[i];
                values.emplace_back(DateTime{static_cast<int>(t.year), static_cast<int>(t.month), static_cast<int>(t.day),
                                             static_cast<int>(t.hour), static_cast<int>(t.minute),
                                             static_cast<int>(t.second), static_cast<int>(t.second_part)});
                break;
            }
            default: {
                std::string bytes(bytes_[i].data(), std::min<std::size_t>(lengths_[i], bytes_[i].size()));
                if (binary_column(fields_[i])) values.emplace_back(Blob(std::move(bytes)));
                else values.emplace_back(std::move(bytes));
            }
        }
    }
    return values;
}

}  // namespace spur::mysql::detail
