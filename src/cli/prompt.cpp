#include "prompt.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <optional>
#include <termios.h>
#include <unistd.h>

#include "errors.hpp"

namespace refold_cli {

namespace {

// What a signal handler needs to give the terminal its echo back: handlers
// can only reach globals. Set only while echo is off.
volatile std::sig_atomic_t g_echo_off_fd = -1;
termios g_saved_termios;

extern "C" void restore_echo_and_reraise(int sig) {
  int fd = g_echo_off_fd;
  if (fd >= 0) {
    tcsetattr(fd, TCSAFLUSH, &g_saved_termios);
    ssize_t ignored = ::write(fd, "\n", 1);
    (void)ignored;
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// The controlling terminal, or stdin/stderr when there is none to open.
class Terminal {
 public:
  Terminal() {
    int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) in_ = out_ = fd;
  }
  ~Terminal() {
    if (in_ != STDIN_FILENO) ::close(in_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  int in() const { return in_; }
  int out() const { return out_; }

 private:
  int in_ = STDIN_FILENO;
  int out_ = STDERR_FILENO;
};

// Echo off for its lifetime; Enter still shows as a new line (ECHONL).
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd, &g_saved_termios) != 0)
      throw Failure(kExitError, "cannot turn off echo to read a secret field");
    struct sigaction sa {};
    sa.sa_handler = restore_echo_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &sa, &old_[i]);
    termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    g_echo_off_fd = fd;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ~EchoOff() {
    tcsetattr(fd_, TCSANOW, &g_saved_termios);
    g_echo_off_fd = -1;
    for (std::size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  struct sigaction old_[std::size(kSignals)] {};
};

void write_all(int fd, const std::string& s) {
  std::string_view rest = s;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to show the prompt; reading still works
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

constexpr std::size_t kMaxLine = 64 * 1024;

}  // namespace

bool can_prompt() { return isatty(STDIN_FILENO) == 1; }

bool prompt_line(const std::string& text, bool secret, SecretString& out) {
  out.clear();
  Terminal term;
  // Echo goes off before the prompt shows, so nothing typed after the
  // prompt can be echoed.
  std::optional<EchoOff> quiet;
  if (secret) quiet.emplace(term.in());
  write_all(term.out(), text);
  bool any = false;
  for (;;) {
    char c;
    ssize_t n = ::read(term.in(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of input (or a dead terminal)
    any = true;
    if (c == '\n') break;
    if (c == '\r') continue;
    if (out.size() >= kMaxLine) throw Failure(kExitUsage, "an entered value is longer than 64 KiB");
    out.push_back(c);
  }
  return any;
}

}  // namespace refold_cli
