// sockscope/process_owners.hpp: which processes hold a socket, and why none.
//
//   #include <iostream>
//   auto owners = ProcessOwners::scan(OwnerSource::kAuto);  // BPF as root, else /proc/*/fd
//   if (!owners) return 1;                                  // only OwnerSource::kBpf fails
//   std::cout << owners->source() << '\n';  // "bpf", or "proc" and bpf_unused() says why
//   auto table = SocketTable::read({.transports = {Transport::kTcp}});
//   if (!table) return 1;
//   for (const SocketRecord& s : table->sockets) {
//     std::cout << s.local.to_string();
//     for (const ProcessOwner& o : owners->of(s.inode)) std::cout << ' ' << o.pid << ' ' << o.fd;
//     if (owners->of(s.inode).empty()) std::cout << ' ' << explain(owners->why_missing(s));
//     std::cout << '\n';  // 127.0.0.1:8000 TIME_WAIT: ...
//   }
//
// The kernel does not report owners, only the socket's inode; the owner is
// whoever has a descriptor whose link reads "socket:[INODE]". Walking every
// descriptor of every process is what makes `ss -p`, `netstat -p` and `lsof`
// slow, so callers scan only when owners are shown or filtered on. One
// getdents64 pass over /proc, one over each /proc/PID/fd, one readlinkat per
// descriptor, into a hash map sized for the descriptors found; the command
// (/proc/PID/comm) is read only for processes that hold a socket.
//
// Two sources give the same owners: a BPF iterator of type task_file lists
// every process's socket descriptors in the kernel (root only, Linux 5.8 or
// later with BTF; ~0.4 µs per descriptor instead of the ~4.5 µs a readlinkat
// costs), and the /proc walk above. OwnerSource::kAuto tries BPF and falls back to
// /proc on any failure, keeping the reason (source() and bpf_unused() above).
//
// Both see what /proc/PID/fd shows: each process's (thread group leader's)
// descriptor table, the pid as /proc names it, the command from comm. BPF is
// used only in the initial PID namespace (the kernel's ids are /proc's there).
//
// The scan races with the dump (like ss): a socket opened after the scan has
// no owner ("no-process"). Not thread-safe while scanning; read-only after.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/error.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {

struct ProcessOwner {
  int pid = 0;
  int fd = 0;                // -1: not known (the connection log knows processes, not descriptors)
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
  kClosedBeforeScan,  // the connection log: it closed before a scan or trace saw its process
};

// "time-wait", "kernel-owned", "no-permission", "other-netns", "no-process",
// "closed-before-scan".
std::string_view to_string(OwnerMissing why);
// One human sentence.
std::string_view explain(OwnerMissing why);

// The user name of a uid (the passwd database), "" when it has none. Looked up
// once per uid and kept. Thread-safe.
std::string user_name(std::uint32_t uid);
// A process's full command line (/proc/PID/cmdline with its arguments joined by
// blanks; control characters kept, for the writers to escape), nullopt when it
// cannot be read (gone, or a kernel thread's empty one).
std::optional<std::string> command_line(int pid, const std::string& proc = "/proc");
// The descriptor of process `pid` that holds the socket `inode` (its lowest, when
// several), -1 when none does or /proc/PID/fd cannot be read. One walk of that
// directory: for a few sockets, where a whole ProcessOwners::scan() would cost more.
int socket_descriptor(int pid, std::uint64_t inode, const std::string& proc = "/proc");
// The same for a socket record; one without its inode (the state tracer's) is looked
// up by its cookie in a dump of the calling thread's namespace, filtered to its port.
int socket_descriptor(int pid, const SocketRecord& socket);

// Where owners come from: kAuto = BPF when possible, else /proc.
enum class OwnerSource : std::uint8_t { kAuto, kBpf, kProc };
// "auto", "bpf", "proc".
std::string_view to_string(OwnerSource source);
std::optional<OwnerSource> parse_owner_source(std::string_view text);

class PendingOwners;

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
  // From the source asked for. kBpf fails (kPermission, kUnsupported, kIo) when
  // the iterator cannot run; kAuto and kProc always answer. BPF is used only
  // for the host's own /proc (`proc` == "/proc").
  static std::expected<ProcessOwners, Error> scan(OwnerSource from,
                                                  const std::string& proc = "/proc");
  // The same scan on a background thread, so that a caller can dump the
  // sockets meanwhile. For kBpf, what can fail early (rights, BTF, the
  // verifier) is checked before it returns.
  static std::expected<PendingOwners, Error> start(OwnerSource from,
                                                   const std::string& proc = "/proc");

  // Every descriptor holding the socket (several after fork or SCM_RIGHTS),
  // ordered by pid and fd. Empty when none.
  std::span<const ProcessOwner> of(std::uint64_t inode) const;
  OwnerMissing why_missing(const SocketRecord& record) const;

  // Processes looked at (/proc: descriptor tables read; BPF: those holding a socket).
  std::size_t processes() const { return processes_; }
  std::size_t sockets() const { return descriptors_; }  // socket descriptors found
  // Processes whose descriptors we could not read (not root, or hidepid).
  std::size_t denied() const { return denied_; }
  // Who answered: "bpf" or "proc".
  std::string_view source() const { return from_bpf_ ? "bpf" : "proc"; }
  // Why BPF was not used ("" when it was, or when /proc was asked for).
  const std::string& bpf_unused() const { return bpf_unused_; }

 private:
  struct Scanner;  // the /proc walk and the BPF iterator (process_owners.cpp)
  friend struct Scanner;
  // One descriptor, in any order (its command a view into commands_); index() after the last.
  void add(std::uint64_t inode, const ProcessOwner& owner) {
    inodes_.push_back(inode);
    owners_.push_back(owner);
  }
  // Builds the inode index over what add() appended. Nothing is sorted but the
  // owners of sockets held by several descriptors (fork, SCM_RIGHTS): those
  // move to the end, each socket's together, ordered by pid and fd.
  void index();
  std::size_t slot_of(std::uint64_t inode) const;

  // owners_[i] holds the socket inodes_[i]; a socket's owners are adjacent
  // (inode 0: an entry index() moved away, or a socket without an inode).
  std::vector<ProcessOwner> owners_;
  std::vector<std::uint64_t> inodes_;
  // inode -> 1 + the index of its first owner, 0 = free: open addressing,
  // linear probing, at most 3/4 full; 4 bytes a slot keep the table in cache.
  std::vector<std::uint32_t> slots_;
  std::deque<std::string> commands_;  // storage behind the views: never moves
  std::size_t descriptors_ = 0;
  std::size_t processes_ = 0;
  std::size_t denied_ = 0;
  bool from_bpf_ = false;
  std::string bpf_unused_;
  std::uint64_t netns_ = 0;
  std::uint32_t euid_ = 0;
};

// A ProcessOwners::start()ed scan.
class PendingOwners {
 public:
  // Waits for the scan (once). Fails only for OwnerSource::kBpf when reading
  // the iterator failed after it was loaded.
  std::expected<ProcessOwners, Error> get() { return future_.get(); }
  // Whether get() would return at once.
  bool ready() const {
    return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

 private:
  friend class ProcessOwners;
  explicit PendingOwners(std::future<std::expected<ProcessOwners, Error>> f)
      : future_(std::move(f)) {}
  std::future<std::expected<ProcessOwners, Error>> future_;
};

}  // namespace sockscope
