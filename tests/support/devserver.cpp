#include "devserver.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace refold_test {

namespace bj = boost::json;

namespace {

// Starts argv with stdout into a new pipe (returned: its read end), stdin
// from /dev/null, and stderr to /dev/null when `quiet`.
std::pair<pid_t, int> spawn(std::vector<std::string> argv, bool quiet, bool search_path) {
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid;
  int rc = search_path ? posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ)
                       : posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (rc != 0) close(out[0]);
  REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
  return {pid, out[0]};
}

// Runs argv to its end; returns {exit status, stdout}. stderr is dropped
// when `quiet` (openssl chatters there).
std::pair<int, std::string> run(std::vector<std::string> argv, bool quiet = false) {
  auto [pid, fd] = spawn(std::move(argv), quiet, true);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

}  // namespace

Devserver::Devserver(std::vector<std::string> args,
                     std::optional<std::pair<std::string, std::string>> tls) {
  std::vector<std::string> argv{REFOLD_DEVSERVER_PATH, "--port", "0"};
  if (tls) {
    argv.insert(argv.end(), {"--tls-cert", tls->first, "--tls-key", tls->second});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  auto [pid, fd] = spawn(std::move(argv), false, false);
  pid_ = pid;
  // The first line of stdout: {"port":N,"base_url":...}.
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  close(fd);
  boost::system::error_code ec;
  bj::value v = bj::parse(line, ec);
  REQUIRE_MESSAGE(!ec, "the devserver did not announce its port");
  port_ = static_cast<int>(v.at("port").to_number<std::int64_t>());
  base_url_ = std::string(v.at("base_url").as_string());
}

Devserver::~Devserver() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bj::object Devserver::sandbox_app(bool iss_supported) const {
  bj::object oauth{{"authorization_endpoint", base_url_ + "/oauth/authorize"},
                   {"token_endpoint", base_url_ + "/oauth/token"},
                   {"revocation_endpoint", base_url_ + "/oauth/revoke"},
                   {"scopes", bj::array{"profile", "read"}},
                   {"issuer", base_url_},
                   {"authorization_response_iss_parameter_supported", iss_supported}};
  return bj::object{{"slug", "sandbox"}, {"name", "Sandbox"}, {"auth_types", bj::array{"oauth2"}},
                    {"oauth2", std::move(oauth)}};
}

bj::object Devserver::sandbox_keys_app() const {
  bj::object field{{"name", "api_key"}, {"label", "API key"}, {"type", "text"}, {"secret", true}};
  bj::object verify{{"url", base_url_ + "/keys/verify"},
                    {"headers", bj::object{{"Authorization", "Bearer {api_key}"}}}};
  return bj::object{{"slug", "sandbox-keys"}, {"name", "Sandbox keys"},
                    {"auth_types", bj::array{"keybased"}},
                    {"keybased", bj::object{{"fields", bj::array{field}}, {"verify", verify}}}};
}

bj::object Devserver::counters() const {
  HttpResult r = curl("GET", base_url_ + "/admin/counters", "", {}, ca_file);
  REQUIRE(r.status == 200);
  return bj::parse(r.body).as_object();
}

void Devserver::admin_post(const std::string& path, const std::string& json_body) const {
  HttpResult r = curl("POST", base_url_ + path, json_body, {"Content-Type: application/json"}, ca_file);
  REQUIRE_MESSAGE(r.status == 200, "admin " << path << " answered " << r.status);
}

HttpResult curl(const std::string& method, const std::string& url, const std::string& body,
                const std::vector<std::string>& headers, const std::string& ca_file) {
  std::vector<std::string> argv{"curl", "-s", "-S", "-i", "--max-time", "20", "-X", method};
  for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
  if (!body.empty()) argv.insert(argv.end(), {"--data-binary", body});
  if (!ca_file.empty()) argv.insert(argv.end(), {"--cacert", ca_file});
  argv.push_back(url);
  auto [rc, out] = run(argv);
  REQUIRE_MESSAGE(rc == 0, "curl failed with exit code " << rc);
  HttpResult r;
  auto head_end = out.find("\r\n\r\n");
  std::string head = out.substr(0, head_end);
  r.body = head_end == std::string::npos ? "" : out.substr(head_end + 4);
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol - pos);
    pos = eol == std::string::npos ? head.size() : eol + 2;
    if (first) {
      auto sp = line.find(' ');
      r.status = std::atoi(line.c_str() + sp + 1);
      first = false;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  return r;
}

std::string follow_authorize(const std::string& authorize_url, const std::string& ca_file) {
  HttpResult r = curl("GET", authorize_url, "", {}, ca_file);
  REQUIRE_MESSAGE(r.status == 302, "authorize answered " << r.status);
  REQUIRE(r.headers.count("location"));
  return r.headers["location"];
}

namespace {
std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}
std::string encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::map<std::string, std::string> query_params(const std::string& url) {
  std::map<std::string, std::string> out;
  auto q = url.find('?');
  if (q == std::string::npos) return out;
  std::string query = url.substr(q + 1, url.find('#') - q - 1);
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string part = query.substr(pos, amp - pos);
    auto eq = part.find('=');
    if (!part.empty()) out[decode(part.substr(0, eq))] = eq == std::string::npos ? "" : decode(part.substr(eq + 1));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string with_param(const std::string& url, const std::string& key, const std::string& value) {
  auto params = query_params(url);
  params[key] = value;
  std::string out = url.substr(0, url.find('?')) + "?";
  bool first = true;
  for (const auto& [k, v] : params) {
    if (!first) out += "&";
    out += encode(k) + "=" + encode(v);
    first = false;
  }
  return out;
}

TestPki make_test_pki(const std::string& dir) {
  TestPki p{dir + "/ca.pem", dir + "/cert.pem", dir + "/key.pem"};
  std::string ca_key = dir + "/ca.key", csr = dir + "/server.csr", ext = dir + "/ext.cnf";
  FILE* f = std::fopen(ext.c_str(), "w");
  REQUIRE(f);
  std::fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n", f);
  std::fclose(f);
  auto ok = [](std::vector<std::string> argv) {
    auto [rc, out] = run(std::move(argv), true);
    REQUIRE_MESSAGE(rc == 0, "openssl failed");
  };
  ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", ca_key, "-out", p.ca, "-days", "2", "-subj", "/CN=refold test CA"});
  ok({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", p.key, "-out", csr, "-subj", "/CN=localhost"});
  ok({"openssl", "x509", "-req", "-in", csr, "-CA", p.ca, "-CAkey", ca_key, "-CAcreateserial",
      "-out", p.cert, "-days", "2", "-extfile", ext});
  return p;
}

}  // namespace refold_test
