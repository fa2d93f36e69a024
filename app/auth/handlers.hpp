#pragma once
// The account: register, login, logout, log out everywhere, password change, deletion, me.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::auth {

spur::Handler register_user(Services& s);
spur::Handler login(Services& s);
/// POST /api/auth/session {email, password}: login for the web front end — the token goes
/// into the HttpOnly, SameSite=Strict session cookie (Secure under TLS), never into the body.
spur::Handler start_session(Services& s);
/// POST /api/auth/logout: revokes the token used (and clears the session cookie).
spur::Handler logout(Services& s);
/// POST /api/auth/logout-all: ends every token issued so far; 204.
spur::Handler logout_all(Services& s);
/// POST /api/auth/password {current_password, new_password}: ends every older token and
/// answers a fresh one as login does; 403 for a wrong current password, 429 when throttled.
spur::Handler change_password(Services& s);
/// DELETE /api/auth/me {password}: deletes the account with its texts and keys; 204.
spur::Handler delete_account(Services& s);
spur::Handler me(Services& s);

}  // namespace app::auth
