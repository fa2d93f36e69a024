#pragma once
// /api/texts: create, list, read, update (partial), delete — own texts only.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::texts {

spur::Handler create(Services& s);
spur::Handler list(Services& s);
spur::Handler show(Services& s);
spur::Handler update(Services& s);
spur::Handler remove(Services& s);

}  // namespace app::texts
