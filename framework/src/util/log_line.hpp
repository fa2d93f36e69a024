#pragma once
// The line a log sink writes for a record, shared by stderr_log_sink and BufferedLog::sink.

#include <spur/log.hpp>

#include <string>

namespace spur::detail {

/// `spur <level>: ` and format_text(record), or format_json(record); no newline.
std::string format_line(const LogRecord& record, LogFormat format);

}  // namespace spur::detail
