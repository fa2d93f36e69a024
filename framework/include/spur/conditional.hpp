#pragma once
// Moved to <spur/http/conditional.hpp>; this path stays for existing code.
#include <spur/http/conditional.hpp>
