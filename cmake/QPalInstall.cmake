# `cmake --install build --prefix P` puts under P what a user of qpal needs:
#
#   bin/      qpal, qpal-opt, qpal-run, qpalrt-info
#   lib/      libqpalrt.{a,so}, libqpaltok.a (the runtime, no MLIR or LLVM)
#   include/  qpalrt.h, qpalpkg.h, qpaltok/: the runtime's C and C++ API;
#             qpal/: the compiler's headers, .def and .td files and the
#             generated .inc files, for plug-ins
#   lib/cmake/qpal/  QPalConfig.cmake: find_package(QPal) gives the runtime
#             targets (QPal::qpalrt, QPal::qpalrt_shared, QPal::qpaltok),
#             the compiler's headers (QPal::Headers) and qpal_add_plugin()
#
# A plug-in (examples/out-of-tree-quantizer) is a MODULE library that links
# MLIR and LLVM only: qpal-opt and qpal export qpal's own symbols
# (qpal_export_for_plugins in the top-level CMakeLists.txt).
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

# The installed tools find libMLIR/libLLVM (and BLAS, CBC) where they were
# linked from: /usr/lib/llvm-22/lib is not on the loader's default path.
set_target_properties(qpal qpal-opt PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS qpal qpal-opt)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qpal
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.def" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/qpal
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE)

set(QPAL_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/qpal)
install(EXPORT QPalTargets NAMESPACE QPal::
  DESTINATION ${QPAL_INSTALL_CMAKE_DIR})

# A plug-in compiles with the definitions qpal compiles with (LLVM's).
set(QPAL_PLUGIN_DEFINITIONS ${QPAL_LLVM_DEFINITIONS})
list(TRANSFORM QPAL_PLUGIN_DEFINITIONS REPLACE "^-D" "")
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/QPalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/QPalConfig.cmake
  INSTALL_DESTINATION ${QPAL_INSTALL_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/QPalConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ExactVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/QPalConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/QPalConfigVersion.cmake
  DESTINATION ${QPAL_INSTALL_CMAKE_DIR})
