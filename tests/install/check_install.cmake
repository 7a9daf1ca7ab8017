# Installs refold from BUILD_DIR into a temporary prefix, then builds and
# runs a consumer against it twice: through find_package(refold) and through
# pkg-config, with the .pc file found relative to where it was installed.
execute_process(COMMAND ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${prefix}/lib/pkgconfig"
                        pkg-config --cflags --libs refold
  RESULT_VARIABLE rc OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find refold")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(extra UNIX_COMMAND "${C_FLAGS}")
run(cc ${extra} "${SOURCE_DIR}/main.c" ${flags} -o "${WORK_DIR}/consumer-pc")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${prefix}/lib" "${WORK_DIR}/consumer-pc")
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "installed package works through find_package and pkg-config")
