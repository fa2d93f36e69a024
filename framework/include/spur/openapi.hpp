#pragma once
// Moved to <spur/openapi/openapi.hpp>; this path stays for existing code.
#include <spur/openapi/openapi.hpp>
