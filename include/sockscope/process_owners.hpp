// sockscope/process_owners.hpp: which processes hold a socket, and why none.
//
//   ProcessOwners owners = ProcessOwners::scan();     // one pass over /proc/*/fd
//   for (const ProcessOwner& o : owners.of(record.inode))
//     fmt::print("{} {} fd {}\n", o.pid, o.command, o.fd);
//   if (owners.of(record.inode).empty())
//     explain(owners.why_missing(record));             // "TIME_WAIT: no process holds it"
//
// The kernel does not report owners, only the socket's inode; the owner is
// whoever has a descriptor whose link reads "socket:[INODE]". Walking every
// descriptor of every process is what makes `ss -p`, `netstat -p` and `lsof`
// slow, so callers scan only when owners are shown or filtered on. One
// getdents64 pass over /proc, one over each /proc/PID/fd, one readlinkat per
// descriptor, into a hash map sized for the descriptors found; the command
// (/proc/PID/comm) is read only for processes that hold a socket.
//
// The scan races with the dump (like ss): a socket opened after the scan has
// no owner ("no-process"). Not thread-safe while scanning; read-only after.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sockscope/socket_table.hpp"

namespace sockscope {

struct ProcessOwner {
  int pid = 0;
  int fd = 0;
  std::string_view command;  // from /proc/PID/comm; valid while the ProcessOwners lives
};

// Why a socket has no owner.
enum class OwnerMissing : std::uint8_t {
  kNone,          // it has owners
  kTimeWait,      // TIME_WAIT: the kernel keeps the pair, no file (inode 0)
  kKernelOwned,   // inode 0 otherwise: a request socket not yet accepted
  kNoPermission,  // another user's process and /proc/PID/fd was not readable to us
  kOtherNetns,    // its namespace's processes are not visible from here (a container)
  kNoProcess,     // no visible descriptor: a kernel socket, another PID namespace, or it changed
};

// "time-wait", "kernel-owned", "no-permission", "other-netns", "no-process".
std::string_view to_string(OwnerMissing why);
// One human sentence.
std::string_view explain(OwnerMissing why);

class ProcessOwners {
 public:
  ProcessOwners() = default;
  // Movable, not copyable: the owners' command views point into this object.
  ProcessOwners(ProcessOwners&&) = default;
  ProcessOwners& operator=(ProcessOwners&&) = default;
  ProcessOwners(const ProcessOwners&) = delete;
  ProcessOwners& operator=(const ProcessOwners&) = delete;

  // Walks `proc` (a procfs mount). Unreadable processes are counted, not fatal.
  static ProcessOwners scan(const std::string& proc = "/proc");

  // Every descriptor holding the socket (several after fork or SCM_RIGHTS),
  // ordered by pid and fd. Empty when none.
  std::span<const ProcessOwner> of(std::uint64_t inode) const;
  OwnerMissing why_missing(const SocketRecord& record) const;

  std::size_t processes() const { return processes_; }
  std::size_t sockets() const { return owners_.size(); }
  // Processes whose descriptors we could not read (not root, or hidepid).
  std::size_t denied() const { return denied_; }

 private:
  struct Span {
    std::uint32_t first;
    std::uint32_t count;
  };
  std::vector<ProcessOwner> owners_;               // grouped by inode
  std::unordered_map<std::uint64_t, Span> index_;  // inode -> its run in owners_
  std::vector<std::string> commands_;                       // storage behind the views
  std::size_t processes_ = 0;
  std::size_t denied_ = 0;
  std::uint64_t netns_ = 0;
  std::uint32_t euid_ = 0;
};

}  // namespace sockscope
