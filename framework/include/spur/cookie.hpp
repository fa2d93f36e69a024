#pragma once
// Moved to <spur/http/cookie.hpp>; this path stays for existing code.
#include <spur/http/cookie.hpp>
