#pragma once
// spur::mysql — the async MySQL/MariaDB client (link spur::mysql).

#include <spur/mysql/config.hpp>
#include <spur/mysql/connection.hpp>
#include <spur/mysql/error.hpp>
#include <spur/mysql/migrator.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/mysql/result.hpp>
#include <spur/mysql/rows.hpp>
#include <spur/mysql/value.hpp>
