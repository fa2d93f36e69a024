#pragma once
// POST /api/texts/:id/summary: a text's summary by the AI service, streamed to the client as
// server-sent events while the service makes it, or from the database when made before.

#include "services.hpp"

#include <spur/handler.hpp>

namespace app::ai {

spur::Handler summarize(Services& s);

}  // namespace app::ai
