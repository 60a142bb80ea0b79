// Runs a program (no shell), capturing stdout, stderr and the exit code, with
// a time limit. Used by the tests that drive the real `sockscope` binary.
#pragma once

#include <string>
#include <vector>

namespace sockscope::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or the time limit
  std::string out;
  std::string err;
};

CommandResult run_command(const std::vector<std::string>& argv, double timeout_seconds = 30,
                          const std::string& stdin_data = {});

// run_command({SOCKSCOPE_BINARY, args...})
CommandResult run_sockscope(const std::vector<std::string>& args, double timeout_seconds = 30);

// Splits text into lines (without the newlines).
std::vector<std::string> lines(const std::string& text);

}  // namespace sockscope::testing
