#   hearth_add_library_objects (NAME SOURCE...): an OBJECT library whose
#   objects go into libhearth (shared and static). They are compiled with
#   HEARTH_BUILDING_LIB, so the declarations in include/hearth/hearth.h carry
#   HEARTH_EXPORT = default visibility; everything else stays hidden (the
#   project sets C_VISIBILITY_PRESET hidden). The same objects also serve the
#   in-tree programs through the static archives, so nothing is compiled
#   twice. Add a new source of the library to the NAME's list, nothing more.
function (hearth_add_library_objects name)
    add_library (${name} OBJECT ${ARGN})
    target_compile_definitions (${name} PRIVATE HEARTH_BUILDING_LIB)
    target_include_directories (${name} PUBLIC ${HEARTH_PUBLIC_INCLUDE}
                                ${PROJECT_SOURCE_DIR}/common)
    target_link_libraries (${name} PUBLIC PkgConfig::ZMQ PkgConfig::MSGPACK
                           Threads::Threads)
endfunction ()
