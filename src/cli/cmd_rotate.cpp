// refold rotate-data-key: replace the store's data key, re-encrypting every
// record under a new one (or finish a rotation that stopped part-way).
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

namespace bj = boost::json;

bj::object data_key_status(refold_client* client) {
  char* text = nullptr;
  check(refold_data_key_status(client, &text), "data key status");
  std::string owned(text);
  refold_free(text);
  bj::value v = bj::parse(owned);
  if (!v.is_object()) throw Failure(kExitError, "data key status: the library returned no object");
  return v.get_object();
}

std::int64_t record_count(const bj::object& status) {
  std::int64_t n = 0;
  for (const auto& k : status.at("keys").as_array())
    n += k.as_object().at("connections").to_number<std::int64_t>() +
         k.as_object().at("pending_flows").to_number<std::int64_t>();
  return n;
}

int cmd_rotate_data_key(const Args& args) {
  Session s(args);
  bj::object before = data_key_status(s.client());
  if (!args.json) {
    if (before["rotating"].as_bool())
      std::printf("Finishing the rotation to data key %lld: %lld records to re-encrypt.\n",
                  static_cast<long long>(before["current_key"].to_number<std::int64_t>()),
                  static_cast<long long>(before["records_to_reseal"].to_number<std::int64_t>()));
    std::fflush(stdout);
  }
  check(refold_rotate_data_key(s.client()), "rotate-data-key");
  bj::object after = data_key_status(s.client());
  if (args.json) {
    print_json(after);
    return kExitOk;
  }
  const std::int64_t records = record_count(after);
  std::printf("Every record (%lld) is sealed under data key %lld; the older keys are destroyed.\n",
              static_cast<long long>(records),
              static_cast<long long>(after["current_key"].to_number<std::int64_t>()));
  return kExitOk;
}

}  // namespace refold_cli
