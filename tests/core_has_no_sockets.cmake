# Fails if any source of the socket-free core (framework/src/core) includes, even
# indirectly, a networking header of Asio or Beast: sockets, acceptors, resolvers, TLS,
# stream reads and writes, HTTP parsers and serializers, WebSocket.
# cmake -DCXX=<compiler> -DFRAMEWORK=<framework dir> -P core_has_no_sockets.cmake
file(GLOB sources ${FRAMEWORK}/src/core/*.cpp)
set(forbidden "boost/asio/(ip|local|generic|ssl)/|boost/asio/(basic_socket|basic_stream_socket|basic_datagram_socket|basic_socket_acceptor|socket_base|connect|read|write|read_until)\\.hpp|boost/beast/(core/tcp_stream|core/basic_stream|ssl|websocket|http/read|http/write|http/parser|http/serializer)")
foreach(source ${sources})
  execute_process(COMMAND ${CXX} -std=c++20 -M -I${FRAMEWORK}/include -I${FRAMEWORK}/src ${source}
                  OUTPUT_VARIABLE deps ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${source}: ${errors}")
  endif()
  string(REGEX MATCH "[^ \\\\\n]*(${forbidden})[^ \\\\\n]*" hit "${deps}")
  if(hit)
    message(FATAL_ERROR "${source} includes a networking header: ${hit}")
  endif()
  get_filename_component(name ${source} NAME)
  message(STATUS "${name}: no networking headers")
endforeach()
message(STATUS "core has no sockets")
