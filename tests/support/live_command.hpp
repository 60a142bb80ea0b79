// A command whose standard output is read line by line while it runs (popen).
#pragma once

#include <stdio.h>

#include <string>

namespace sockscope::testing {

class LiveCommand {
 public:
  explicit LiveCommand(const std::string& command) : pipe_(::popen(command.c_str(), "r")) {}
  ~LiveCommand() { close(); }
  LiveCommand(const LiveCommand&) = delete;
  LiveCommand& operator=(const LiveCommand&) = delete;

  // The next line, "" at the end of output.
  std::string next_line() {
    std::string line;
    char buf[4096];
    while (pipe_ && std::fgets(buf, sizeof buf, pipe_)) {
      line += buf;
      if (line.back() == '\n') break;
    }
    return line;
  }
  // Waits for the command; its wait status (pclose), -1 when it never ran.
  int close() {
    if (pipe_) exit_ = ::pclose(pipe_);
    pipe_ = nullptr;
    return exit_;
  }

 private:
  FILE* pipe_;
  int exit_ = -1;
};

}  // namespace sockscope::testing
