#include "catalog/template.hpp"

#include <algorithm>

#include "http/url.hpp"
#include "util/error.hpp"

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

namespace {

// Where the host starts (after "//", or 0) and where the authority ends
// (the first '/' or '?' after it, or the end).
std::pair<std::size_t, std::size_t> authority_of(std::string_view tmpl) {
  auto scheme_end = tmpl.find("//");
  auto host_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 2;
  auto end = tmpl.find_first_of("/?", host_start);
  return {host_start, end == std::string_view::npos ? tmpl.size() : end};
}

bool is_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_connection_input(std::string_view name) { return name.starts_with("connection."); }

bool is_local(std::string_view host) { return host == "localhost" || host.ends_with(".localhost"); }

}  // namespace

bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::size_t from = 0;;) {
    auto dot = s.find('.', from);
    if (!is_label(s.substr(from, dot == std::string_view::npos ? std::string_view::npos : dot - from))) return false;
    if (dot == std::string_view::npos) return true;
    from = dot + 1;
  }
}

void check_url_template(const json::Reader& r, std::string_view key, std::string_view tmpl,
                        const std::function<bool(std::string_view)>& known, std::string_view what,
                        const std::function<bool(std::string_view)>& in_host,
                        const std::function<std::optional<std::string>(std::string_view)>& host_input,
                        const std::function<bool(std::string_view)>& is_input) {
  auto input = [&](std::string_view name) { return is_input ? is_input(name) : is_connection_input(name); };
  auto sample_host = [&](std::string_view name) -> std::optional<std::string> {
    return host_input ? host_input(name) : std::nullopt;
  };
  check_template(r, key, tmpl, known, what);
  auto [start, end] = authority_of(tmpl);
  std::string_view authority = tmpl.substr(start, end - start);
  if (tmpl.substr(0, start).find('{') != std::string_view::npos)
    r.bad(key, "may not use a placeholder in its scheme");
  if (authority.find('{') != std::string_view::npos) {
    // The port is what follows the last ':' after the last placeholder (a
    // placeholder in the port is then in the "host", and not a whole label).
    auto last_close = authority.rfind('}');
    auto colon = authority.find(':', last_close);
    std::string_view host = authority.substr(0, colon);
    if (authority.find('@') != std::string_view::npos) r.bad(key, "may not carry user information");
    bool any_input = false;
    for (std::size_t pos = 0; (pos = host.find('{', pos)) != std::string_view::npos;) {
      auto close = host.find('}', pos);
      std::string_view name = host.substr(pos + 1, close - pos - 1);
      if (!in_host(name))
        r.bad(key, "may not use '{" + std::string(name) + "}' in its host");
      if (sample_host(name)) {
        // A host input: the tenant's whole domain, or the end of the host.
        const bool alone = host.find('{') == pos && close + 1 == host.size() && (pos == 0 || host[pos - 1] == '.');
        if (!alone)
          r.bad(key, "must use '{" + std::string(name) + "}', a host input, alone at the end of its host, as "
                     "in 'https://{" + std::string(name) + "}/' or 'https://api.{" + std::string(name) + "}/'");
      } else if (input(name)) {
        any_input = true;
        bool whole = (pos == 0 || host[pos - 1] == '.') && close + 1 < host.size() && host[close + 1] == '.';
        if (!whole)
          r.bad(key, "must use '{" + std::string(name) + "}' as a whole label of its host, as in "
                     "'{" + std::string(name) + "}.example.com'");
      }
      pos = close + 1;
    }
    if (any_input) {
      std::string_view suffix = host.substr(host.rfind('}') + 1);
      bool localhost = suffix == ".localhost";
      bool two_labels = std::count(suffix.begin(), suffix.end(), '.') >= 2 && suffix.back() != '.';
      if (!localhost && !two_labels)
        r.bad(key, "must end its host in a fixed domain of at least two labels after the last "
                   "placeholder (as '.zendesk.com'), so a connection input picks a name within it");
    }
  }
  // A whole URL the provider sends ("{metadata.instance_url}/..."): checked
  // once filled.
  if (tmpl.starts_with("{") && tmpl.find('}') != std::string_view::npos && !input(tmpl.substr(1, tmpl.find('}') - 1)))
    return;
  std::string sample_value;
  std::string sample(fill_template(tmpl, [&](std::string_view name) {
                       auto h = sample_host(name);
                       sample_value = h ? *h : "x";
                       return std::optional<std::string_view>(sample_value);
                     }, false).view());
  try {
    http::require_secure(http::parse_url(sample));
  } catch (const Error&) {
    r.bad(key, "must be an https URL (http only for loopback hosts)");
  }
}

FilledUrl fill_url(std::string_view tmpl,
                   const std::function<std::optional<std::string_view>(std::string_view)>& value,
                   const std::function<bool(std::string_view)>& is_input) {
  auto [start, end] = authority_of(tmpl);
  FilledUrl out;
  bool chosen = false;
  bool local_input = false;  // a host input chose a loopback name
  std::string label;
  crypto::SecretString head = fill_template(tmpl.substr(0, end), [&](std::string_view name)
                                                                     -> std::optional<std::string_view> {
    auto v = value(name);
    // A whole URL the provider sent ("{metadata.instance_url}/...") goes in
    // as it is, and is checked once filled.
    const bool input = is_input ? is_input(name) : is_connection_input(name);
    const std::string placeholder = "{" + std::string(name) + "}";
    if (tmpl.starts_with(placeholder) && !input) return v;
    // Provider metadata standing for the whole host ("https://{metadata.host}/")
    // must be a host name; anything else in the authority is one label of
    // it. A value that is absent, or not that, would change which host is
    // reached.
    const std::string_view authority = tmpl.substr(start, end - start);
    const bool whole_host = !input && authority.starts_with(placeholder) &&
                            (authority.size() == placeholder.size() || authority[placeholder.size()] == ':');
    // A connection input that ends the host is a host input (the catalog
    // allows no other there): a host name, within its field's suffixes.
    const std::string_view host = authority.substr(0, authority.find(':', authority.rfind('}')));
    const bool host_input = input && host.ends_with(placeholder);
    const std::string what = !input                       ? "'" + std::string(name) + "'"
                             : is_connection_input(name) ? "connection input '" + std::string(name.substr(11)) + "'"
                                                         : "field '" + std::string(name) + "'";
    if (!v || v->empty()) fail(REFOLD_EINVALID, what + " is missing, and it is part of the host name");
    const bool ok = whole_host || host_input ? is_host_name(*v) : is_label(*v);
    if (!ok)
      fail(REFOLD_EINVALID, what + (whole_host || host_input ? " must be a host name"
                                                             : " must be a host name label (letters, digits and '-', "
                                                               "up to 63)") +
                                ": it goes into the host name");
    chosen = chosen || input;
    if (host_input) local_input = is_local(*v);
    label.assign(v->begin(), v->end());
    std::transform(label.begin(), label.end(), label.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return std::string_view(label);
  }, false);
  out.url = std::move(head);
  out.url += fill_template(tmpl.substr(end), value, true);
  if (chosen) {
    std::string_view authority = tmpl.substr(start, end - start);
    std::string_view host = authority.substr(0, authority.find(':', authority.rfind('}')));
    out.public_only = !host.ends_with(".localhost") && !local_input;
  }
  return out;
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
