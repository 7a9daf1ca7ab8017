#include "catalog/template.hpp"

#include "http/url.hpp"

namespace refold::catalog {

void check_template(const json::Reader& r, std::string_view key, std::string_view tmpl,
                    const std::function<bool(std::string_view)>& known, std::string_view what) {
  for (std::size_t pos = 0; (pos = tmpl.find('{', pos)) != std::string_view::npos;) {
    auto end = tmpl.find('}', pos);
    if (end == std::string_view::npos) r.bad(key, "has an unclosed '{'");
    std::string_view name = tmpl.substr(pos + 1, end - pos - 1);
    if (!known(name)) r.bad(key, "refers to '{" + std::string(name) + "}', which is not " + std::string(what));
    pos = end + 1;
  }
}

bool template_in_authority(std::string_view tmpl) {
  auto scheme_end = tmpl.find("//");
  auto host_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 2;
  return tmpl.substr(0, tmpl.find('/', host_start)).find('{') != std::string_view::npos;
}

crypto::SecretString fill_template(std::string_view tmpl,
                                   const std::function<std::optional<std::string_view>(std::string_view)>& value,
                                   bool url) {
  crypto::SecretString out;
  for (std::size_t pos = 0; pos < tmpl.size();) {
    auto open = tmpl.find('{', pos);
    auto close = open == std::string_view::npos ? open : tmpl.find('}', open);
    if (close == std::string_view::npos) {
      out += tmpl.substr(pos);
      break;
    }
    out += tmpl.substr(pos, open - pos);
    if (auto v = value(tmpl.substr(open + 1, close - open - 1))) {
      if (url) out += http::form_encode({{"a", *v}}).view().substr(2);
      else out += *v;
    }
    pos = close + 1;
  }
  return out;
}

}  // namespace refold::catalog
