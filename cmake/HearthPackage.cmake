#   libhearth for programs outside this tree: the headers, hearth.pc and a
#   CMake package, installed, and the same for the build tree so a program
#   can use Hearth without installing it (README.md, "Building against
#   libhearth"; tests/install proves each way).
include (CMakePackageConfigHelpers)

install (TARGETS hearth_shared hearth_static EXPORT HearthTargets
         LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
         ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install (FILES ${PROJECT_SOURCE_DIR}/include/hearth/hearth.h
               ${PROJECT_SOURCE_DIR}/include/hearth/hearth_proto.h
               ${PROJECT_BINARY_DIR}/include/hearth/hearth_version.h
         DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hearth)

#   hearth.pc names its directories relative to itself (${pcfiledir}), so it
#   is right wherever the files end up: the configured prefix, `cmake
#   --install --prefix P` (decided after configure, which is why no
#   configured absolute path would do), DESTDIR, or a moved tree. An
#   absolute CMAKE_INSTALL_LIBDIR or INCLUDEDIR is written as it is.
set (HEARTH_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if (IS_ABSOLUTE "${HEARTH_PKGCONFIG_DIR}")
    set (HEARTH_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else ()
    #   From LIBDIR/pkgconfig back up to the prefix ("../.." for lib).
    file (RELATIVE_PATH HEARTH_PC_UP /prefix/${HEARTH_PKGCONFIG_DIR} /prefix)
    string (REGEX REPLACE "/$" "" HEARTH_PC_UP "${HEARTH_PC_UP}")
    set (HEARTH_PC_PREFIX "\${pcfiledir}/${HEARTH_PC_UP}")
endif ()
foreach (dir LIBDIR INCLUDEDIR)
    if (IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
        set (HEARTH_PC_${dir} "${CMAKE_INSTALL_${dir}}")
    else ()
        set (HEARTH_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
    endif ()
endforeach ()
set (HEARTH_PC_CFLAGS "-I\${includedir}")
configure_file (${PROJECT_SOURCE_DIR}/hearth.pc.in
                ${PROJECT_BINARY_DIR}/for-install/hearth.pc @ONLY)
install (FILES ${PROJECT_BINARY_DIR}/for-install/hearth.pc
         DESTINATION ${HEARTH_PKGCONFIG_DIR})

#   The build tree's hearth-uninstalled.pc, which pkg-config prefers to
#   hearth.pc: PKG_CONFIG_PATH=BUILD pkg-config --cflags --libs hearth.
set (HEARTH_PC_PREFIX "${PROJECT_BINARY_DIR}")
set (HEARTH_PC_LIBDIR "$<TARGET_FILE_DIR:hearth_shared>")
set (HEARTH_PC_INCLUDEDIR "${PROJECT_SOURCE_DIR}/include")
set (HEARTH_PC_CFLAGS "-I\${includedir} -I${PROJECT_BINARY_DIR}/include")
configure_file (${PROJECT_SOURCE_DIR}/hearth.pc.in
                ${PROJECT_BINARY_DIR}/CMakeFiles/hearth-uninstalled.pc.in @ONLY)
file (GENERATE OUTPUT ${PROJECT_BINARY_DIR}/hearth-uninstalled.pc
      INPUT ${PROJECT_BINARY_DIR}/CMakeFiles/hearth-uninstalled.pc.in)

#   The CMake package: Hearth::hearth and Hearth::hearth_static, in
#   LIBDIR/cmake/Hearth, and in the build tree for Hearth_DIR=BUILD.
#   SameMajorVersion, as the shared library's SOVERSION is the major number.
set (HEARTH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Hearth)
configure_file (${PROJECT_SOURCE_DIR}/cmake/HearthConfig.cmake.in
                ${PROJECT_BINARY_DIR}/HearthConfig.cmake @ONLY)
write_basic_package_version_file (${PROJECT_BINARY_DIR}/HearthConfigVersion.cmake
                                  COMPATIBILITY SameMajorVersion)
install (EXPORT HearthTargets NAMESPACE Hearth:: DESTINATION ${HEARTH_CMAKE_DIR})
export (EXPORT HearthTargets NAMESPACE Hearth::
        FILE ${PROJECT_BINARY_DIR}/HearthTargets.cmake)
install (FILES ${PROJECT_BINARY_DIR}/HearthConfig.cmake
               ${PROJECT_BINARY_DIR}/HearthConfigVersion.cmake
         DESTINATION ${HEARTH_CMAKE_DIR})
