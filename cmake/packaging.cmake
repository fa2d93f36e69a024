# Debian packages through CPack (`cpack -G DEB` in a build tree, or `cmake --workflow --preset
# package`), one package per component group:
#   libspur-dev  component dev: headers, static libraries, CMake config, pkg-config files,
#                `spur new` and its project template (tools/)
#   spur-app     components app (binary, web front end, Swagger UI: also `cmake --install
#                --component app`) and app_system (systemd units, /etc/spur-app/env): the
#                latter only in the package, since it writes outside the prefix
# The maintainer scripts, units and env template are in packaging/deb. Build with
# CMAKE_INSTALL_PREFIX=/usr (the package preset), so the units name /usr/bin/spur-app.
set(deb_dir ${PROJECT_SOURCE_DIR}/packaging/deb)

# The system files: absolute destinations, and EXCLUDE_FROM_ALL so that a plain `cmake --install`
# never writes to /etc or /lib; cpack installs the component by name.
# io_uring's system calls are outside systemd's @system-service set (systemd 252).
set(SPUR_UNIT_EXTRA_SYSCALLS "")
if(SPUR_IO_URING)
  set(SPUR_UNIT_EXTRA_SYSCALLS "io_uring_setup io_uring_enter io_uring_register")
endif()
configure_file(${deb_dir}/spur-app.service.in ${CMAKE_CURRENT_BINARY_DIR}/packaging/spur-app.service @ONLY)
configure_file(${deb_dir}/spur-app.socket.in ${CMAKE_CURRENT_BINARY_DIR}/packaging/spur-app.socket @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/spur-app.service ${CMAKE_CURRENT_BINARY_DIR}/packaging/spur-app.socket
        DESTINATION /lib/systemd/system COMPONENT app_system EXCLUDE_FROM_ALL)
install(FILES ${deb_dir}/env DESTINATION /etc/spur-app PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT app_system EXCLUDE_FROM_ALL)
# Debian wants a copyright file per package; the deployment guide the units point at.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/spur-app RENAME copyright
        COMPONENT app_system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/deployment.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/spur-app
        COMPONENT app_system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libspur-dev RENAME copyright
        COMPONENT dev EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME spur)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "spur")
set(CPACK_PACKAGE_CONTACT "spur maintainers <spur@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL dev app app_system)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION-REVISION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Strips the executable (install(TARGETS) never strips static libraries).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libspur-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "C++20 web framework on Boost.Beast/Asio (development files)
spur: routing, middleware, typed request bodies, OpenAPI, WebSocket, SSE, HTTP/2, TLS, and
spur::mysql, an asynchronous MariaDB client. Static libraries, headers, CMake package
(find_package(spur)), pkg-config files (spur, spur-mysql), and `spur new` / `spur dev`,
which start a project on spur and run its edit-build-run loop.")
# What a consumer compiles and links against: the headers' Boost, and the static libraries'
# dependencies (spurConfig.cmake and spur.pc name the same ones). pkg-config: spurConfig.cmake
# finds RE2, nghttp2 and MariaDB through it.
set(dev_depends libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libfmt-dev zlib1g-dev
    libre2-dev libcrypt-dev pkg-config)
if(SPUR_WITH_HTTP2)
  list(APPEND dev_depends libnghttp2-dev)
endif()
if(SPUR_WITH_MYSQL)
  list(APPEND dev_depends libmariadb-dev)
endif()
if(SPUR_IO_URING)  # spurConfig.cmake and spur.pc then require liburing
  list(APPEND dev_depends liburing-dev)
endif()
list(JOIN dev_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)
# `spur new` projects build with CMake presets on Ninja; `spur dev` opens its socket with python3.
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "cmake, g++ (>= 4:12), ninja-build, python3")

set(CPACK_DEBIAN_APP_PACKAGE_NAME spur-app)
set(CPACK_DEBIAN_APP_DESCRIPTION "web server on spur: accounts, API keys and texts on MariaDB
spur-app serves a JSON API (OpenAPI at /openapi.json, Swagger UI at /docs) and its React web
front end, with a systemd socket unit for restarts that refuse no connection.")
# Shared libraries from dpkg-shlibdeps (needs dpkg-dev); adduser for the postinst.
set(CPACK_DEBIAN_APP_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_APP_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_APP_PACKAGE_SUGGESTS "mariadb-server")
set(CPACK_DEBIAN_APP_PACKAGE_CONTROL_EXTRA ${deb_dir}/postinst ${deb_dir}/prerm ${deb_dir}/postrm ${deb_dir}/conffiles)

include(CPack)
cpack_add_component_group(dev)
cpack_add_component_group(app)
cpack_add_component(dev GROUP dev)
cpack_add_component(app GROUP app)
cpack_add_component(app_system GROUP app)
