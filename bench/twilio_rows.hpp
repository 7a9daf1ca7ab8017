// The connections refold_bench_core reads and refold_bench_seed writes: one
// Twilio connection per account "account-<i>", each with its own fields,
// in a store at DIR/bench.db under a fixed master key.
#pragma once

#include <cstdio>
#include <string>

namespace refold_bench {

inline std::string config_for(const std::string& dir) {
  return "{\"store\":\"" + dir + "/bench.db\",\"master_key\":\"" + std::string(64, 'b') + "\"}";
}

inline std::string account(long i) { return "account-" + std::to_string(i); }

// Connect payload (and so the sealed fields) of account i.
inline std::string payload(long i) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"sid\":\"AC%032lx\",\"auth_token\":\"%032lx%08lx\",\"number\":\"+1555%07ld\"}", i,
                i * 7919, i, i % 10000000);
  return buf;
}

}  // namespace refold_bench
