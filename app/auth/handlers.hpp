#pragma once
// POST /api/auth/register, /login, /logout and GET /api/auth/me.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::auth {

spur::Handler register_user(Services& s);
spur::Handler login(Services& s);
spur::Handler logout(Services& s);
spur::Handler me(Services& s);

}  // namespace app::auth
