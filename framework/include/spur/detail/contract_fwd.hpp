#pragma once
// What a typed handler tells the OpenAPI generator about its inputs; the templates behind it
// are in <spur/contract/contract.hpp>.

#include <spur/task.hpp>

#include <boost/json/fwd.hpp>

#include <string>
#include <vector>

namespace spur {
struct ExtractorDoc;
class Request;
}

namespace spur::detail {

class SchemaRegistry;

/// Builds the JSON Schema of one type, registering named components on the way.
using SchemaFn = boost::json::value (*)(SchemaRegistry&);
/// Appends OpenAPI parameter objects; `route_params` are the route's parameter names in order.
using ParamsFn = void (*)(SchemaRegistry&, boost::json::array& out, const std::vector<std::string>& route_params);

/// The typed inputs of a handler (all null for an untyped one).
struct Inputs {
    SchemaFn body = nullptr;
    /// The schema of a Form<T> body, and whether it takes files (then it is multipart only).
    SchemaFn form = nullptr;
    bool form_files = false;
    ParamsFn query = nullptr;
    ParamsFn path = nullptr;
    ParamsFn header = nullptr;
    ParamsFn cookie = nullptr;
    /// Fills in what the handler's own extractors document (security, error answers).
    void (*extractors)(ExtractorDoc&) = nullptr;
    /// Checks the route's parameter names against Path<T>; returns "" or what is wrong.
    std::string (*check_path)(const std::vector<std::string>& route_params) = nullptr;
    /// The handler runs its own extractors before the body is read (ready_body), so that an
    /// extractor's 401 never made the server read an upload.
    bool extractors_before_body = false;
    /// Reads what an input needs of a body still on the wire after ready_body (a Form<T> on a
    /// stream_body() route: its files stream to disk), or null.
    Task<> (*prepare)(Request&) = nullptr;
};

/// Whether ready_body has anything to do: checked first, so that most requests make no
/// coroutine frame for it.
bool body_needs_work(const Request& req, const Inputs* inputs) noexcept;
/// Reads the body of a buffered route into req.body() (not a GET's or HEAD's, unless `inputs`
/// take one), and parses a large JSON body off the I/O thread. The route's handler runs right
/// after; its typed extractors first, when it has some. Throws as Request::read_body().
Task<> ready_body(Request& req, const Inputs* inputs);

template <class T>
boost::json::value schema_of(SchemaRegistry& registry);

}  // namespace spur::detail
