# Runs the OAuth and verification API tests with doctest's -s (every
# assertion and its values printed) and fails if anything that looks like a
# secret of those flows reaches the output: the fixed client secrets, or any
# run of 40 or more base64url characters (the sandbox's codes and tokens,
# PKCE verifiers and states are all 43+ characters of it).
execute_process(COMMAND "${TESTS}" "-tc=oauth*,lifecycle*,keybased: a declared*,keybased: an unreachable*" -s
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the OAuth tests failed (exit ${rc}); run them directly to see why")
endif()
foreach(pattern "test-secret-9f8e7d6c5b4a" "sandbox-secret"
                "[A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-][A-Za-z0-9_-]")
  if(all MATCHES "${pattern}")
    # Say where, without printing the secret itself.
    string(FIND "${all}" "${CMAKE_MATCH_0}" at)
    message(FATAL_ERROR "test output holds what looks like a secret (pattern ${pattern}) at offset ${at}")
  endif()
endforeach()
string(LENGTH "${all}" n)
message(STATUS "checked ${n} bytes of OAuth test output: no secret")
