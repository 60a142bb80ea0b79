// A real program started as a user starts it (a server, Prometheus), running in
// the background while the test talks to it; stopped by its pid (SIGTERM, then
// SIGKILL after a bounded wait) when the object goes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sockscope::testing {

class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Waits (at most `seconds`) until the program's stderr holds `text`; false when
  // it did not, or the program ended first.
  bool wait_for_stderr(const std::string& text, double seconds);
  // Everything the program wrote so far (stdout and stderr, as files).
  std::string out() const;
  std::string err() const;
  // Whether it still runs.
  bool running();
  // SIGTERM, wait (at most 10 s), SIGKILL; returns the exit code (-1: a signal).
  int stop();

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string dir_;
};

}  // namespace sockscope::testing
