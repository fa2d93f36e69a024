# Fails if any source of the socket-free part of the framework includes, even indirectly, a
# networking header of Asio or Beast: sockets, acceptors, resolvers, TLS, stream reads and
# writes, HTTP parsers and serializers, WebSocket. That part is the request pipeline
# (framework/src/core) and the rooms compiled into the same object library beside it:
# background/, contract/, health/, http/, sse/ and views/.
# cmake -DCXX=<compiler> -DFRAMEWORK=<framework dir> -P core_has_no_sockets.cmake
set(rooms core background contract health http sse views)
set(sources)
foreach(room ${rooms})
  file(GLOB room_sources ${FRAMEWORK}/src/${room}/*.cpp)
  if(NOT room_sources)
    message(FATAL_ERROR "${FRAMEWORK}/src/${room}: no sources (a room moved? update this list)")
  endif()
  list(APPEND sources ${room_sources})
endforeach()
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
  file(RELATIVE_PATH name ${FRAMEWORK}/src ${source})
  message(STATUS "${name}: no networking headers")
endforeach()
message(STATUS "core has no sockets")
