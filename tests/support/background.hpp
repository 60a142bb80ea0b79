// A real program started as a user starts it (a server, Prometheus), running in
// the background while the test talks to it; stopped by its pid (SIGTERM, then
// SIGKILL after a bounded wait) when the object goes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace sockscope::testing {

class Background {
 public:
  // stdin is /dev/null, or with `stdin_pipe` a pipe the test writes (write_stdin).
  explicit Background(const std::vector<std::string>& argv, bool stdin_pipe = false);
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
  // The pipe on its stdin: writes all of `bytes` (false when the program is gone),
  // and closes it (the program's end of input).
  bool write_stdin(const void* bytes, std::size_t size);
  void close_stdin();
  // Waits (at most `seconds`) for it to end by itself; its exit code, -1 when it
  // still runs or ended by a signal.
  int wait(double seconds);
  // SIGTERM, wait (at most 10 s), SIGKILL; returns the exit code (-1: a signal).
  int stop();

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int stdin_ = -1;
  std::string dir_;
};

}  // namespace sockscope::testing
