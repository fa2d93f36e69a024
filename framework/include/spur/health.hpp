#pragma once
// Moved to <spur/health/health.hpp>; this path stays for existing code.
#include <spur/health/health.hpp>
