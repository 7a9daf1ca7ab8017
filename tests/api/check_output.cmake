# Runs the OAuth and verification API tests with doctest's -s (every
# assertion and its values printed) and fails if anything that looks like a
# secret of those flows reaches the output: the fixed client secrets, or any
# run of 40 or more base64url characters (the sandbox's codes and tokens,
# PKCE verifiers and states are all 43+ characters of it).
execute_process(COMMAND "${TESTS}" "-tc=oauth*,lifecycle*,keybased: a declared*,keybased: an unreachable*" -s
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
string(REPEAT "[A-Za-z0-9_-]" 40 long_run)
set(fixed_secrets "test-secret-9f8e7d6c5b4a|sandbox-secret")
if(NOT rc EQUAL 0)
  # Show the failed assertions (each ERROR line and the two lines of values
  # after it), with anything that could be a secret blanked out first.
  string(REGEX REPLACE "${long_run}[A-Za-z0-9_-]*" "<redacted>" shown "${all}")
  string(REGEX REPLACE "${fixed_secrets}" "<redacted>" shown "${shown}")
  string(REGEX MATCHALL "[^\n]*ERROR[^\n]*\n[^\n]*\n[^\n]*" failures "${shown}")
  string(REGEX MATCH "\\[doctest\\] test cases:[^\n]*" summary "${shown}")
  string(JOIN "\n" failures ${failures})
  message(FATAL_ERROR "the OAuth tests failed (exit ${rc}):\n${failures}\n${summary}")
endif()
foreach(what "fixed_secrets" "long_run")
  if(all MATCHES "${${what}}")
    # Say where, without printing the secret itself.
    string(FIND "${all}" "${CMAKE_MATCH_0}" at)
    set(fixed_secrets "one of the fixed client secrets")
    set(long_run "a run of 40 or more base64url characters")
    message(FATAL_ERROR "test output holds what looks like a secret (${${what}}) at offset ${at}")
  endif()
endforeach()
string(LENGTH "${all}" n)
message(STATUS "checked ${n} bytes of OAuth test output: no secret")
