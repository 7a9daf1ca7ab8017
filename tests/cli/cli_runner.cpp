#include "cli_runner.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace refold_cli_test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRunLimit = std::chrono::seconds(60);

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
}

// In a sanitizer build a report may come with an exit status a test
// expects anyway (1), so the report itself fails the test.
void check_sanitizers(const std::string& err) {
  CHECK_MESSAGE(err.find("Sanitizer") == std::string::npos, err);
  CHECK_MESSAGE(err.find("runtime error:") == std::string::npos, err);
}

}  // namespace

Cli::Cli() = default;

std::vector<std::string> Cli::environment(const std::map<std::string, std::string>& extra) const {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  vars.erase("REFOLD_CONFIG");
  vars["REFOLD_MASTER_KEY"] = key;
  vars["HOME"] = dir.path();
  vars["XDG_DATA_HOME"] = dir.file("xdg");
  for (const auto& [k, v] : extra) vars[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

Result Cli::run(const std::vector<std::string>& args, const RunOptions& opts) {
  std::vector<std::string> full{"--store", store};
  full.insert(full.end(), args.begin(), args.end());
  return run_raw(full, opts);
}

Result Cli::run_raw(const std::vector<std::string>& args, const RunOptions& opts) {
  std::vector<std::string> argv{REFOLD_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = environment(opts.env);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);

  int in[2], out[2], err[2];
  REQUIRE(pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(pipe2(err, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (opts.stdin_text.empty()) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  else posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid;
  int rc = posix_spawn(&pid, c_argv[0], &fa, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  REQUIRE_MESSAGE(rc == 0, "cannot start " << REFOLD_CLI_PATH);
  if (!opts.stdin_text.empty()) write_all(in[1], opts.stdin_text);
  close(in[1]);

  Result r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  auto deadline = Clock::now() + kRunLimit;
  while (open_fds > 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      FAIL("refold did not finish within 60 s");
    }
    int n = poll(fds, 2, 200);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      }
    }
  }
  r.status = wait_status(pid);
  check_sanitizers(r.err);
  if (!opts.revealed) transcript_ += r.out;
  transcript_ += r.err;
  return r;
}

std::unique_ptr<Running> Cli::start(const std::vector<std::string>& args) {
  std::vector<std::string> argv{REFOLD_CLI_PATH, "--store", store};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = environment({});
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  int out[2], err[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(pipe2(err, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid;
  int rc = posix_spawn(&pid, c_argv[0], &fa, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
  }
  REQUIRE_MESSAGE(rc == 0, "cannot start " << REFOLD_CLI_PATH);
  return std::unique_ptr<Running>(new Running(pid, out[0], err[0], &transcript_));
}

Running::~Running() {
  if (finished_) return;
  kill(pid_, SIGKILL);
  wait_status(pid_);
  for (int fd : fds_)
    if (fd >= 0) close(fd);
}

bool Running::pump(int timeout_ms) {
  pollfd p[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
  std::string* sinks[2] = {&r_.out, &r_.err};
  int n = poll(p, 2, timeout_ms);
  if (n < 0 && errno == EINTR) return true;
  for (int i = 0; i < 2; ++i) {
    if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[4096];
    ssize_t got = read(p[i].fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(fds_[i]);
      fds_[i] = -1;
    } else {
      sinks[i]->append(buf, static_cast<std::size_t>(got));
    }
  }
  return fds_[0] >= 0 || fds_[1] >= 0;
}

void Running::wait_until(const std::string& what, std::chrono::seconds limit,
                         const std::function<bool()>& done) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    bool open = pump(100);
    if (done()) return;
    if (!open || Clock::now() > deadline) {
      std::string how = open ? "did not show " : "ended without showing ";
      FAIL("refold " << how << what << " within " << limit.count() << " s; stdout: " << r_.out
                     << " stderr: " << r_.err);
    }
  }
}

void Running::wait_for_out(const std::string& text, int times, std::chrono::seconds limit) {
  wait_until("'" + text + "' on stdout", limit, [&] {
    int n = 0;
    for (auto at = r_.out.find(text); at != std::string::npos; at = r_.out.find(text, at + 1)) ++n;
    return n >= times;
  });
}

void Running::wait_for_err(const std::string& text, std::chrono::seconds limit) {
  wait_until("'" + text + "' on stderr", limit, [&] { return r_.err.find(text) != std::string::npos; });
}

void Running::signal(int sig) { REQUIRE(kill(pid_, sig) == 0); }

Result Running::finish(std::chrono::seconds limit) {
  REQUIRE_FALSE(finished_);
  auto deadline = Clock::now() + limit;
  while (pump(200)) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      FAIL("refold did not finish within " << limit.count() << " s; stdout: " << r_.out
                                           << " stderr: " << r_.err);
    }
  }
  r_.status = wait_status(pid_);
  finished_ = true;
  check_sanitizers(r_.err);
  *transcript_ += r_.out;
  *transcript_ += r_.err;
  return r_;
}

Result Cli::run_on_terminal(const std::vector<std::string>& args,
                            const std::vector<std::pair<std::string, std::string>>& dialogue,
                            bool* echo_after) {
  std::vector<std::string> argv{REFOLD_CLI_PATH, "--store", store};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = environment({});
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);

  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: the pty is its controlling terminal and stdin/out/err.
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  Result r;
  std::size_t step = 0, seen_upto = 0;
  auto deadline = Clock::now() + kRunLimit;
  for (;;) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      close(master);
      wait_status(pid);
      FAIL("refold did not finish on the terminal within 60 s; it showed: " << r.out);
    }
    pollfd p{master, POLLIN, 0};
    int n = poll(&p, 1, 200);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;
    char buf[4096];
    ssize_t got = read(master, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EIO: the child closed the terminal
    r.out.append(buf, static_cast<std::size_t>(got));
    if (step < dialogue.size()) {
      auto at = r.out.find(dialogue[step].first, seen_upto);
      if (at != std::string::npos) {
        seen_upto = at + dialogue[step].first.size();
        const std::string& line = dialogue[step].second;
        write_all(master, line == "^C" ? std::string("\x03") : line + "\n");
        ++step;
      }
    }
  }
  r.status = wait_status(pid);
  if (echo_after) {
    // On Linux the master reports the terminal's line settings.
    termios t{};
    REQUIRE(tcgetattr(master, &t) == 0);
    *echo_after = (t.c_lflag & ECHO) != 0;
  }
  close(master);
  check_sanitizers(r.out);
  CHECK_MESSAGE(step == dialogue.size(), "the terminal showed: " << r.out);
  transcript_ += r.out;
  return r;
}

std::string Cli::write_config(const std::string& name, const boost::json::object& config) const {
  std::string path = dir.file(name);
  refold_test::write_private_file(path, boost::json::serialize(config));
  return path;
}

boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  CHECK_MESSAGE(!ec, "not JSON");
  return v;
}

}  // namespace refold_cli_test
