#pragma once
// /healthz and /readyz on the wire.

#include <boost/describe/class.hpp>

#include <string>

namespace app::health {

struct HealthStatus {
    std::string status;  ///< "ok", "ready" or "unavailable"
};
BOOST_DESCRIBE_STRUCT(HealthStatus, (), (status))

}  // namespace app::health
