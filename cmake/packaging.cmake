# Debian packages (`make deb`, i.e. cpack -G DEB in the build dir), two of them:
# - coffre: the server and CLI binary, a systemd unit, /etc/coffre/coffre.toml,
#   /etc/default/coffre, /var/lib/coffre (0700)
#   and maintainer scripts that create the `coffre` system user;
# - coffre-dev: the C++ client library (a static library by default) with its headers, CMake
#   package and pkg-config file. A separate package, as Debian does for -dev files: a server
#   needs no headers, and a program built against the client needs no server.
set(COFFRE_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)

# Only in the package (EXCLUDE_FROM_ALL: a component install, which cpack does, takes them;
# `cmake --install`/`make install PREFIX=...` never writes to /etc or /var/lib).
# Bookworm packages still ship units in /lib (the /usr/lib move is trixie's).
install(FILES ${COFFRE_PACKAGING_DIR}/coffre.service DESTINATION /lib/systemd/system
  COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${COFFRE_PACKAGING_DIR}/coffre.default DESTINATION /etc/default RENAME coffre
  COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${COFFRE_PACKAGING_DIR}/coffre.toml DESTINATION /etc/coffre
  COMPONENT server EXCLUDE_FROM_ALL)
install(DIRECTORY DESTINATION /var/lib/coffre COMPONENT server EXCLUDE_FROM_ALL
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/coffre COMPONENT server)
foreach(doc production.md admin-api.md cli.md)
  if(EXISTS ${CMAKE_SOURCE_DIR}/docs/${doc})
    install(FILES ${CMAKE_SOURCE_DIR}/docs/${doc} DESTINATION share/doc/coffre COMPONENT server)
  endif()
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME coffre)
set(CPACK_PACKAGE_VENDOR "Coffre")
set(CPACK_PACKAGE_CONTACT "Coffre maintainers <coffre@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Self-hosted key management service with the Azure Key Vault API")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL server dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME coffre)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION utils)
# Library dependencies from the binary (dpkg-shlibdeps); adduser for the postinst.
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${COFFRE_PACKAGING_DIR}/debian/postinst ${COFFRE_PACKAGING_DIR}/debian/prerm
  ${COFFRE_PACKAGING_DIR}/debian/postrm ${COFFRE_PACKAGING_DIR}/debian/conffiles)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
  "Coffre server and command line\n Keys and secrets with the Azure Key Vault REST API, for the official Azure SDKs.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME coffre-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libcurl4-openssl-dev | libcurl-dev, libssl-dev (>= 3), libboost-json-dev (>= 1.81)")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "Coffre C++ client library (KeyClient, CryptographyClient, SecretClient)\n Headers, library, CMake package (find_package(coffre)) and pkg-config file.")

include(CPack)
