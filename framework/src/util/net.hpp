#pragma once
// The one place that names the Boost namespaces spur's sources use.

namespace boost::asio {}
namespace boost::beast {}
namespace boost::beast::http {}
namespace boost::json {}

namespace spur {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
}  // namespace spur
