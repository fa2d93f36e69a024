// Precompiled for the socket-free core: no Asio networking header may appear here (see
// framework/CMakeLists.txt and the core_has_no_sockets test).
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
