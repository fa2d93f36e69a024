#pragma once
// spur — everything a typical application needs, in one include.

#include <spur/app.hpp>
#include <spur/background/background.hpp>
#include <spur/contract/contract.hpp>
#include <spur/http/cookie.hpp>
#include <spur/extension.hpp>
#include <spur/handler.hpp>
#include <spur/health/health.hpp>
#include <spur/http_client.hpp>
#include <spur/http_error.hpp>
#include <spur/log.hpp>
#include <spur/offload.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/random.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>
#include <spur/router.hpp>
#include <spur/sse/sse.hpp>
#include <spur/server.hpp>
#include <spur/serving.hpp>
#include <spur/session.hpp>
#include <spur/task.hpp>
#include <spur/trace_context.hpp>
#include <spur/types.hpp>
#include <spur/validation_error.hpp>
#include <spur/views/views.hpp>
