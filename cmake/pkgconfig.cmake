# pkg-config files for the installed library (component dev): spur.pc, and spur-mysql.pc with
# SPUR_WITH_MYSQL. They are written at install time, so that `prefix=` is the prefix actually
# installed to (`cmake --install --prefix`, or /usr under cpack) rather than the configured one.
set(SPUR_PC_NGHTTP2 "")
if(SPUR_WITH_HTTP2)
  set(SPUR_PC_NGHTTP2 " libnghttp2")
endif()
if(SPUR_IO_URING)  # Asio's io_uring backend is compiled into libspur
  string(APPEND SPUR_PC_NGHTTP2 " liburing")
endif()
get_target_property(SPUR_PC_DEFINITIONS spur INTERFACE_COMPILE_DEFINITIONS)
list(TRANSFORM SPUR_PC_DEFINITIONS PREPEND "-D")
list(JOIN SPUR_PC_DEFINITIONS " " SPUR_PC_DEFINITIONS)

set(SPUR_PC_FILES spur)
if(SPUR_WITH_MYSQL)
  list(APPEND SPUR_PC_FILES spur-mysql)
endif()
foreach(pc IN LISTS SPUR_PC_FILES)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/${pc}.pc)
  # Everything but the prefix is known now; configure_file in the install script then sees the
  # install-time CMAKE_INSTALL_PREFIX.
  install(CODE "
    set(PROJECT_VERSION \"${PROJECT_VERSION}\")
    set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(SPUR_PC_NGHTTP2 \"${SPUR_PC_NGHTTP2}\")
    set(SPUR_PC_DEFINITIONS \"${SPUR_PC_DEFINITIONS}\")
    configure_file(\"${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in\" \"${out}\" @ONLY)
  " COMPONENT dev)
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()
