// Runs a function on a thread with a small stack, as hosts' worker threads
// (and Go, Rust and C# runtimes' threads) often have: a recursion that grows
// with the input overflows it long before it would overflow a main thread.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <stdexcept>

namespace refold_test {

// Calls `fn` on a new thread with a stack of `bytes` and waits for it; an
// exception from `fn` is rethrown here.
inline void run_on_stack(std::size_t bytes, const std::function<void()>& fn) {
  struct Job {
    const std::function<void()>* fn;
    std::exception_ptr error;
  } job{&fn, nullptr};
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) throw std::runtime_error("pthread_attr_init failed");
  if (pthread_attr_setstacksize(&attr, bytes) != 0) {
    pthread_attr_destroy(&attr);
    throw std::runtime_error("pthread_attr_setstacksize refused the size");
  }
  pthread_t thread;
  const int rc = pthread_create(
      &thread, &attr,
      [](void* p) -> void* {
        auto* j = static_cast<Job*>(p);
        try {
          (*j->fn)();
        } catch (...) {
          j->error = std::current_exception();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

// The stack size the pattern tests use.
inline constexpr std::size_t kSmallStack = 64 * 1024;

}  // namespace refold_test
