// A network namespace of the test's own (`ip netns add`, loopback up), removed
// afterwards; work that must happen inside it runs on a thread that entered it.
// Needs root; why_not() says why it could not be made.
#pragma once

#include <functional>
#include <string>

namespace sockscope::testing {

class TestNetns {
 public:
  // `prefix` + the test's pid names it ("sockscope-eph-4242").
  explicit TestNetns(const std::string& prefix);
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& why_not() const { return why_not_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Runs fn on a thread that has entered the namespace: sockets it creates and
  // sysctls it writes under /proc/sys/net are the namespace's.
  void run(const std::function<void()>& fn);

 private:
  std::string name_;
  std::string why_not_;
  int fd_ = -1;
};

}  // namespace sockscope::testing
