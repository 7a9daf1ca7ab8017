// Starting and stopping refold-devserver as a child process.
#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <stdexcept>

#include "harness.hpp"

extern char** environ;

namespace devtest {

namespace {

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

Child spawn(const std::vector<std::string>& args) {
  std::vector<std::string> all{REFOLD_DEVSERVER_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + all[0]);
  }
  return Child{pid, fds[0]};
}

int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reads up to a newline (or EOF) byte by byte: nothing after the ready line
// may be consumed, and there is nothing after it anyway.
std::string read_line(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line.push_back(c);
  }
  return line;
}

}  // namespace

DevServer::DevServer(std::vector<std::string> args) {
  Child child = spawn(args);
  pid_ = child.pid;
  stdout_fd_ = child.stdout_fd;
  std::string line = read_line(stdout_fd_);
  if (line.empty()) {
    int status = wait_status(pid_);
    pid_ = -1;
    close(stdout_fd_);
    stdout_fd_ = -1;
    throw std::runtime_error("refold-devserver exited with status " + std::to_string(status) +
                             " before it was ready");
  }
  try {
    auto ready = boost::json::parse(line).as_object();
    port_ = static_cast<std::uint16_t>(ready.at("port").to_number<std::int64_t>());
    base_url_ = std::string(ready.at("base_url").as_string());
    issuer_ = std::string(ready.at("issuer").as_string());
  } catch (...) {
    // The destructor does not run for a throwing constructor.
    stop(SIGKILL);
    close(stdout_fd_);
    throw;
  }
}

DevServer::~DevServer() {
  if (pid_ > 0) {
    int status = stop(SIGTERM);
    // Not while unwinding from a failed REQUIRE: that failure is the story.
    if (std::uncaught_exceptions() == 0) CHECK_MESSAGE(status == 0, "refold-devserver exit status");
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

int DevServer::stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  return wait();
}

int DevServer::wait() {
  if (pid_ <= 0) return -1;
  int status = wait_status(pid_);
  pid_ = -1;
  return status;
}

Response DevServer::get(const std::string& target, Fields headers) const {
  return send(port_, Request{"GET", target, std::move(headers), {}});
}

Response DevServer::post_form(const std::string& target, const std::string& body,
                              Fields headers) const {
  headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  return send(port_, Request{"POST", target, std::move(headers), body});
}

Response DevServer::post_json(const std::string& target, const std::string& json) const {
  return send(port_, Request{"POST", target, {{"Content-Type", "application/json"}}, json});
}

std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args) {
  Child child = spawn(args);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(child.stdout_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(child.stdout_fd);
  return {wait_status(child.pid), out};
}

}  // namespace devtest
