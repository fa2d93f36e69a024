#pragma once
// Moved to <spur/contract/contract.hpp>; this path stays for existing code.
#include <spur/contract/contract.hpp>
