#pragma once
// POST/GET /api/keys and DELETE /api/keys/:id.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::api_keys {

spur::Handler create(Services& s);
spur::Handler list(Services& s);
spur::Handler remove(Services& s);

}  // namespace app::api_keys
