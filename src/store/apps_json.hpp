// The apps a due list leaves out, as the JSON array both stores' queries
// take (nullopt for none).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace refold::store {

inline std::optional<std::string> apps_json(const std::vector<std::string>& apps) {
  if (apps.empty()) return std::nullopt;
  boost::json::array a;
  for (const auto& app : apps) a.emplace_back(app);
  return boost::json::serialize(a);
}

}  // namespace refold::store
