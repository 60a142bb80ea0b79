// The two owner sources against each other and against what this test knows
// it holds: sockets of its own, one shared with an exec'd child after fork,
// one opened by a second thread, one held only by a thread that unshared its
// descriptor table. The BPF iterator and the /proc walk must name the same
// (pid, fd, command) for each.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <tuple>

#include "host/bpf_iter.hpp"
#include "host/loopback.hpp"
#include "sockscope/process_owners.hpp"

namespace sockscope {
namespace {

using testing::Fd;
using Owner = std::tuple<int, int, std::string>;  // pid, fd, command

std::uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

std::string comm_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string c;
  std::getline(in, c);
  return c;
}

std::vector<Owner> owners_of(const ProcessOwners& owners, std::uint64_t inode) {
  std::vector<Owner> v;
  for (const auto& o : owners.of(inode)) v.emplace_back(o.pid, o.fd, std::string(o.command));
  return v;
}

// A child that holds `a` at fd 100 and `b` at fd 101 and nothing else past
// stderr, as /bin/sleep (so its command differs from ours).
class SleepingChild {
 public:
  SleepingChild(int a, int b) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(a, 100);  // dup2 clears close-on-exec on the copy
      ::dup2(b, 101);
      ::syscall(SYS_close_range, 3u, 99u, 0u);
      ::syscall(SYS_close_range, 102u, ~0u, 0u);
      ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready once the exec has happened (bounded: 5 s).
    for (int i = 0; i < 500 && comm_of(pid_) != "sleep"; ++i) ::usleep(10'000);
  }
  ~SleepingChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
};

// A thread that unshares its descriptor table, then opens a UDP socket that
// only its own table holds; it waits until released.
class UnsharedThread {
 public:
  explicit UnsharedThread(const IpAddress& a) {
    thread_ = std::thread([this, a] {
      ::pthread_setname_np(::pthread_self(), "unshared-fds");
      if (::unshare(CLONE_FILES) != 0) {
        error_ = errno;
      } else {
        Fd own = testing::udp_bind({a, 0});
        inode_ = inode_of(own.get());
        fd_ = own.get();
        ready_ = true;
        for (int i = 0; i < 3000 && !release_; ++i) ::usleep(10'000);  // <= 30 s
      }
      ready_ = true;
    });
    for (int i = 0; i < 500 && !ready_; ++i) ::usleep(10'000);
  }
  ~UnsharedThread() {
    release_ = true;
    thread_.join();
  }
  int error() const { return error_; }
  std::uint64_t inode() const { return inode_; }
  int fd() const { return fd_; }

 private:
  std::thread thread_;
  std::atomic<bool> ready_{false}, release_{false};
  std::atomic<int> error_{0};
  std::atomic<std::uint64_t> inode_{0};
  std::atomic<int> fd_{-1};
};

TEST(OwnerSourceTest, BpfAndProcNameTheSameOwners) {
  const IpAddress a = testing::own_v4(90);
  Fd listener = testing::tcp_listen({a, 0});
  Fd client = testing::tcp_connect(testing::local_of(listener.get()));
  Fd accepted = testing::tcp_accept(listener.get());
  Fd udp = testing::udp_bind({a, 0});
  // Opened by another thread of this process: it is still this process's descriptor.
  Fd from_thread;
  std::thread([&] {
    ::pthread_setname_np(::pthread_self(), "opener");
    from_thread = testing::udp_bind({a, 0});
  }).join();
  SleepingChild child(listener.get(), client.get());
  ASSERT_EQ(comm_of(child.pid()), "sleep");
  UnsharedThread unshared(a);
  ASSERT_EQ(unshared.error(), 0) << "unshare(CLONE_FILES): " << std::strerror(unshared.error());
  ASSERT_NE(unshared.inode(), 0u);

  auto bpf = ProcessOwners::scan(OwnerSource::kBpf);
  if (!bpf && bpf.error().code == Error::Code::kPermission) {
    GTEST_SKIP() << "BPF not permitted here: " << bpf.error().what();
  }
  ASSERT_TRUE(bpf) << bpf.error().what();
  EXPECT_EQ(bpf->source(), "bpf");
  auto proc = ProcessOwners::scan(OwnerSource::kProc);
  ASSERT_TRUE(proc);
  EXPECT_EQ(proc->source(), "proc");

  const int me = ::getpid();
  const std::string my_comm = comm_of(me);  // the leader's, not "opener"
  const std::string sleep = "sleep";
  struct Expect {
    const char* what;
    std::uint64_t inode;
    std::vector<Owner> owners;
  };
  const std::vector<Expect> expected = {
      {"listener (shared with the child)",
       inode_of(listener.get()),
       {{me, listener.get(), my_comm}, {child.pid(), 100, sleep}}},
      {"client (shared with the child)",
       inode_of(client.get()),
       {{me, client.get(), my_comm}, {child.pid(), 101, sleep}}},
      {"accepted", inode_of(accepted.get()), {{me, accepted.get(), my_comm}}},
      {"udp", inode_of(udp.get()), {{me, udp.get(), my_comm}}},
      {"opened by a thread", inode_of(from_thread.get()), {{me, from_thread.get(), my_comm}}},
      // Only in the unshared thread's table, which /proc/PID/fd does not show:
      // neither source names it (the BPF program keeps to the leader's table).
      {"held by the unshared thread only", unshared.inode(), {}},
  };
  for (const auto& e : expected) {
    auto from_bpf = owners_of(*bpf, e.inode);
    auto from_proc = owners_of(*proc, e.inode);
    // of() promises the order (pid, then fd) whatever order the scan found them in.
    EXPECT_TRUE(std::is_sorted(from_bpf.begin(), from_bpf.end())) << e.what;
    EXPECT_TRUE(std::is_sorted(from_proc.begin(), from_proc.end())) << e.what;
    std::sort(from_bpf.begin(), from_bpf.end());
    std::sort(from_proc.begin(), from_proc.end());
    auto want = e.owners;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(from_bpf, from_proc) << e.what;
    EXPECT_EQ(from_bpf, want) << e.what;
  }
  // The unshared thread's copy of the table holds the listener too, at the same
  // fd: still one owner per descriptor of the process, no duplicate.
  EXPECT_EQ(bpf->of(inode_of(listener.get())).size(), 2u);

  // auto: BPF when it works, and no reason recorded.
  auto automatic = ProcessOwners::scan(OwnerSource::kAuto);
  ASSERT_TRUE(automatic);
  EXPECT_EQ(automatic->source(), "bpf");
  EXPECT_EQ(automatic->bpf_unused(), "");
}

TEST(OwnerSourceTest, AnotherUserGetsProcAndTheReason) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody";
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string report;
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      report = "setresuid failed";
    } else {
      auto bpf = ProcessOwners::scan(OwnerSource::kBpf);
      auto automatic = ProcessOwners::scan(OwnerSource::kAuto);
      report = std::string(bpf ? "bpf-worked"
                           : bpf.error().code == Error::Code::kPermission
                               ? "permission"
                               : "other:" + bpf.error().what()) +
               "|" + (automatic ? std::string(automatic->source()) : "failed") + "|" +
               (automatic ? automatic->bpf_unused() : "");
    }
    (void)!::write(pipe_fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) report.append(buf, size_t(n));
  ::close(pipe_fds[0]);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(report, "permission|proc|loading a BPF iterator needs CAP_BPF and CAP_PERFMON (root)");
}

// A program the kernel refuses: an error naming the verifier's reason (this is
// what --owners-from auto falls back on, and --owners-from bpf reports).
TEST(OwnerSourceTest, VerifierRejectionIsAnErrorWithItsReason) {
  auto file = host_detail::BtfFile::open("/sys/kernel/btf/vmlinux");
  if (!file) GTEST_SKIP() << "no kernel BTF here: " << file.error().what();
  auto layout = host_detail::find_iter_task_file_layout(file->bytes());
  ASSERT_TRUE(layout) << layout.error().what();
  auto good = host_detail::TaskFileIterator::load(*layout);
  if (!good && good.error().code == Error::Code::kPermission) {
    GTEST_SKIP() << "BPF not permitted here: " << good.error().what();
  }
  ASSERT_TRUE(good) << good.error().what();
  auto bad = *layout;
  bad.ctx_fd = 12;  // not on an 8-byte argument slot of the context
  auto refused = host_detail::TaskFileIterator::load(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Error::Code::kUnsupported);
  EXPECT_NE(refused.error().what().find("the kernel's verifier rejected the task_file program: "),
            std::string::npos)
      << refused.error().what();
  EXPECT_NE(refused.error().what().find("off=12"), std::string::npos) << refused.error().what();
}

TEST(OwnerSourceTest, ParsesTheSourceNames) {
  for (auto s : {OwnerSource::kAuto, OwnerSource::kBpf, OwnerSource::kProc}) {
    EXPECT_EQ(parse_owner_source(to_string(s)), s);
  }
  EXPECT_EQ(parse_owner_source("BPF"), std::nullopt);
  EXPECT_EQ(parse_owner_source(""), std::nullopt);
}

}  // namespace
}  // namespace sockscope
