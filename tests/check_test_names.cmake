# A doctest name with ';' in it is split by doctest_discover_tests (a CMake
# list): the ctest entry then filters on half a name, matches no test case,
# and passes without running anything. Fails naming every such test case.
# Usage: cmake -DSOURCE_DIR=<tests> -P check_test_names.cmake
file(GLOB_RECURSE sources "${SOURCE_DIR}/*.cpp")
set(bad "")
foreach(source IN LISTS sources)
  file(READ "${source}" text)
  # A ';' in the name's string literals, before the closing parenthesis.
  # (Not a list operation: a match would be split at that very ';'.)
  if(text MATCHES "TEST_CASE\\(\"[^)]*;")
    string(APPEND bad "\n  ${source}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "test case names with ';' (ctest would run none of them):${bad}")
endif()
