#pragma once
// Moved to <spur/sse/sse.hpp>; this path stays for existing code.
#include <spur/sse/sse.hpp>
