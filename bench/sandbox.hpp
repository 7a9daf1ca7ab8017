// What the benchmarks share: the sandbox provider as a child process, its
// admin endpoints through curl, and reading a flat JSON answer.
#pragma once

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace refold_bench {

// A value of a flat JSON object's key (enough for the sandbox's answers).
inline std::string json_field(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  auto colon = json.find(':', k);
  auto start = json.find_first_not_of(" ", colon + 1);
  if (start == std::string::npos) return "";
  if (json[start] == '"') return json.substr(start + 1, json.find('"', start + 1) - start - 1);
  auto end = json.find_first_of(",}", start);
  return json.substr(start, end - start);
}

// Runs a shell command and returns what it printed.
inline std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// refold-devserver on an ephemeral loopback port, with the client
// bench-client:bench-secret and `extra` options; stopped on destruction.
struct Sandbox {
  pid_t pid = -1;
  std::string base;
  explicit Sandbox(std::initializer_list<const char*> extra = {}) {
    std::vector<const char*> argv{"refold-devserver", "--port", "0", "--auto-approve", "--client",
                                  "bench-client:bench-secret"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) std::exit(1);
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      execv(REFOLD_DEVSERVER_PATH, const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    char ch;
    while (read(fds[0], &ch, 1) == 1 && ch != '\n') line += ch;
    close(fds[0]);
    base = json_field(line, "base_url");
    if (base.empty()) {
      std::fprintf(stderr, "the sandbox did not start\n");
      std::exit(1);
    }
  }
  ~Sandbox() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  long counter(const char* name) const {
    return std::atol(json_field(run("curl -s " + base + "/admin/counters"), name).c_str());
  }
  void post(const std::string& path, const std::string& body) const {
    run("curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '" + body + "' " + base + path);
  }
};

}  // namespace refold_bench
