#include "support/test_netns.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "support/run_command.hpp"

namespace sockscope::testing {

TestNetns::TestNetns(const std::string& prefix) : name_(prefix + std::to_string(::getpid())) {
  run_command({"ip", "netns", "del", name_});
  auto add = run_command({"ip", "netns", "add", name_});
  if (add.exit_code != 0) {
    why_not_ = "cannot create a network namespace (" + add.err + ")";
    return;
  }
  run_command({"ip", "-n", name_, "link", "set", "lo", "up"});
  fd_ = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) why_not_ = "cannot open " + path();
}

TestNetns::~TestNetns() {
  if (fd_ >= 0) ::close(fd_);
  run_command({"ip", "netns", "del", name_});
}

void TestNetns::run(const std::function<void()>& fn) {
  std::thread worker([&] {
    ASSERT_EQ(::setns(fd_, CLONE_NEWNET), 0) << std::strerror(errno);
    fn();
  });
  worker.join();
}

}  // namespace sockscope::testing
