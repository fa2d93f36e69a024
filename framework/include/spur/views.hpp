#pragma once
// Moved to <spur/views/views.hpp>; this path stays for existing code.
#include <spur/views/views.hpp>
