// The /proc/*/fd walk behind ProcessOwners: raw getdents64 and readlinkat,
// no per-descriptor allocation; the inode index is built once, unsorted.
#include "sockscope/process_owners.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "host/bpf_iter.hpp"
#include "host/sockstat.hpp"

namespace sockscope {
namespace {

struct LinuxDirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Calls fn(name) for every entry of the open directory `dir`.
template <typename Fn>
void for_each_entry(int dir, std::vector<char>& buf, Fn&& fn) {
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buf.data(), buf.size());
    if (n <= 0) return;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf.data() + off);
      off += d->d_reclen;
      fn(d->d_name);
    }
  }
}

// Decimal names only ("123"); -1 otherwise.
long number_of(const char* name) {
  if (*name < '0' || *name > '9') return -1;
  long v = 0;
  for (; *name; ++name) {
    if (*name < '0' || *name > '9') return -1;
    v = v * 10 + (*name - '0');
  }
  return v;
}

// The kernel's count of sockets in use ("sockets: used N" in /proc/net/sockstat,
// this network namespace's): the size the owner arrays will about reach, so
// that they are allocated once (grown by doubling they were copied and touched
// twice their memory). 0 when unknown.
std::size_t sockets_in_use() { return host_detail::read_socket_counts().all.value_or(0); }

std::string read_comm(int proc_fd, long pid) {
  char path[40];
  std::snprintf(path, sizeof path, "%ld/comm", pid);
  int fd = ::openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "?";
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return "?";
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) --n;
  return std::string(buf, std::size_t(n));
}

}  // namespace

std::string_view to_string(OwnerSource source) {
  switch (source) {
    case OwnerSource::kAuto: return "auto";
    case OwnerSource::kBpf: return "bpf";
    case OwnerSource::kProc: return "proc";
  }
  return "auto";
}

std::optional<OwnerSource> parse_owner_source(std::string_view text) {
  if (text == "auto") return OwnerSource::kAuto;
  if (text == "bpf") return OwnerSource::kBpf;
  if (text == "proc") return OwnerSource::kProc;
  return std::nullopt;
}

std::string_view to_string(OwnerMissing why) {
  switch (why) {
    case OwnerMissing::kNone: return "none";
    case OwnerMissing::kTimeWait: return "time-wait";
    case OwnerMissing::kKernelOwned: return "kernel-owned";
    case OwnerMissing::kNoPermission: return "no-permission";
    case OwnerMissing::kOtherNetns: return "other-netns";
    case OwnerMissing::kNoProcess: return "no-process";
    case OwnerMissing::kClosedBeforeScan: return "closed-before-scan";
  }
  return "none";
}

std::string_view explain(OwnerMissing why) {
  switch (why) {
    case OwnerMissing::kNone: return "";
    case OwnerMissing::kTimeWait:
      return "TIME_WAIT: the kernel keeps the pair after close, no process holds it";
    case OwnerMissing::kKernelOwned:
      return "no inode: a connection the kernel holds until it is accepted";
    case OwnerMissing::kNoPermission:
      return "another user's socket and their /proc/PID/fd is not readable (run as root)";
    case OwnerMissing::kOtherNetns:
      return "in another network namespace whose processes are not visible from here";
    case OwnerMissing::kNoProcess:
      return "no process visible from here holds it: a kernel socket, a process of another "
             "PID namespace, or it changed during the scan";
    case OwnerMissing::kClosedBeforeScan:
      return "it closed before an owner scan or the connect() trace saw its process";
  }
  return "";
}

struct ProcessOwners::Scanner {
  static ProcessOwners proc(const std::string& proc);
  static std::expected<ProcessOwners, Error> bpf(const host_detail::TaskFileIterator& it);
};

ProcessOwners ProcessOwners::Scanner::proc(const std::string& proc) {
  ProcessOwners out;
  out.euid_ = ::geteuid();
  out.netns_ = current_netns();
  int proc_fd = ::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0) {
    out.denied_ = 1;
    return out;
  }
  std::vector<char> pids_buf(64 * 1024);
  std::vector<long> pids;
  for_each_entry(proc_fd, pids_buf, [&](const char* name) {
    long pid = number_of(name);
    if (pid > 0) pids.push_back(pid);
  });
  // readlinkat on /proc/PID/fd/N is the whole cost (a few microseconds per
  // descriptor): split the processes over two threads, interleaved so that
  // the few processes with many descriptors spread out.
  struct Found {  // one descriptor, until the commands have their final place
    std::uint64_t inode;
    int pid;
    int fd;
    std::uint32_t command;  // index in Part::commands
  };
  struct Part {
    std::vector<Found> raw;
    std::vector<std::string> commands;
    std::size_t processes = 0, denied = 0;
  };
  auto walk = [&](Part& part, std::size_t first, std::size_t step) {
    std::vector<char> fds_buf(64 * 1024);
    char path[48];
    char link[64];
    for (std::size_t i = first; i < pids.size(); i += step) {
      const long pid = pids[i];
      std::snprintf(path, sizeof path, "%ld/fd", pid);
      int dir = ::openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) {
        if (errno == EACCES || errno == EPERM) ++part.denied;
        continue;  // ENOENT: the process ended meanwhile
      }
      ++part.processes;
      std::uint32_t command = UINT32_MAX;
      for_each_entry(dir, fds_buf, [&](const char* name) {
        long fd = number_of(name);
        if (fd < 0) return;
        ssize_t n = ::readlinkat(dir, name, link, sizeof link - 1);
        // "socket:[12345]"
        if (n < 10 || std::memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']') return;
        std::uint64_t inode = 0;
        for (ssize_t k = 8; k < n - 1; ++k) inode = inode * 10 + std::uint64_t(link[k] - '0');
        if (command == UINT32_MAX) {
          command = std::uint32_t(part.commands.size());
          part.commands.push_back(read_comm(proc_fd, pid));
        }
        part.raw.push_back({inode, int(pid), int(fd), command});
      });
      ::close(dir);
    }
  };
  Part parts[2];
  std::thread helper(walk, std::ref(parts[1]), 1, 2);
  walk(parts[0], 0, 2);
  helper.join();
  for (Part& part : parts) {
    const std::size_t first = out.commands_.size();
    for (auto& c : part.commands) out.commands_.push_back(std::move(c));
    for (const Found& r : part.raw) {
      out.add(r.inode, {r.pid, r.fd, out.commands_[first + r.command]});
    }
    out.processes_ += part.processes;
    out.denied_ += part.denied;
  }
  ::close(proc_fd);
  out.index();
  return out;
}

void ProcessOwners::index() {
  descriptors_ = owners_.size();
  std::size_t size = 16;
  while (size * 3 < descriptors_ * 4) size *= 2;
  slots_.assign(size, 0);
  std::vector<std::uint32_t> again;  // descriptors of a socket already indexed
  for (std::size_t i = 0; i < descriptors_; ++i) {
    if (inodes_[i] == 0) continue;
    std::uint32_t& slot = slots_[slot_of(inodes_[i])];
    if (slot == 0) {
      slot = std::uint32_t(i + 1);
    } else {
      again.push_back(std::uint32_t(i));
    }
  }
  if (again.empty()) return;
  // Shared sockets: each one's descriptors move to the end, together.
  std::sort(again.begin(), again.end(), [&](std::uint32_t a, std::uint32_t b) {
    return inodes_[a] != inodes_[b] ? inodes_[a] < inodes_[b] : a < b;
  });
  std::vector<ProcessOwner> shared;
  for (std::size_t k = 0; k < again.size();) {
    const std::uint64_t inode = inodes_[again[k]];
    std::uint32_t& slot = slots_[slot_of(inode)];
    shared.assign({owners_[slot - 1]});
    inodes_[slot - 1] = 0;
    for (; k < again.size() && inodes_[again[k]] == inode; ++k) {
      shared.push_back(owners_[again[k]]);
      inodes_[again[k]] = 0;
    }
    std::sort(shared.begin(), shared.end(), [](const ProcessOwner& a, const ProcessOwner& b) {
      return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
    });
    slot = std::uint32_t(owners_.size() + 1);
    for (const ProcessOwner& o : shared) add(inode, o);
  }
}

// The slot holding `inode`, or the free one where it would go.
std::size_t ProcessOwners::slot_of(std::uint64_t inode) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = std::size_t((inode * 0x9E3779B97F4A7C15ull) >> 32) & mask;
  while (slots_[i] != 0 && inodes_[slots_[i] - 1] != inode) i = (i + 1) & mask;
  return i;
}

std::expected<ProcessOwners, Error> ProcessOwners::Scanner::bpf(
    const host_detail::TaskFileIterator& it) {
  ProcessOwners out;
  out.from_bpf_ = true;
  out.euid_ = ::geteuid();
  out.netns_ = current_netns();
  // Room for every socket plus some shared ones; more only grows the arrays.
  const std::size_t expected = std::min<std::size_t>(sockets_in_use(), std::size_t{1} << 24);
  out.owners_.reserve(expected + expected / 16);
  out.inodes_.reserve(expected + expected / 16);
  // The iterator visits one task at a time: a process's records are adjacent.
  std::uint32_t last_tgid = 0;
  std::string_view command;
  auto n = it.for_each([&](const host_detail::SocketFile& f) {
    if (out.commands_.empty() || f.tgid != last_tgid) {
      command = out.commands_.emplace_back(f.comm, ::strnlen(f.comm, sizeof f.comm));
      last_tgid = f.tgid;
      ++out.processes_;
    }
    out.add(f.inode, {int(f.tgid), int(f.fd), command});
  });
  if (!n) return std::unexpected(n.error());
  out.index();
  return out;
}

ProcessOwners ProcessOwners::scan(const std::string& proc) {
  return *scan(OwnerSource::kAuto, proc);
}

std::expected<ProcessOwners, Error> ProcessOwners::scan(OwnerSource from, const std::string& proc) {
  auto pending = start(from, proc);
  if (!pending) return std::unexpected(pending.error());
  return pending->get();
}

std::expected<PendingOwners, Error> ProcessOwners::start(OwnerSource from,
                                                         const std::string& proc) {
  using Result = std::expected<ProcessOwners, Error>;
  auto with_proc = [proc](std::string bpf_unused) {
    return PendingOwners(std::async(std::launch::async, [proc, why = std::move(bpf_unused)] {
      ProcessOwners out = Scanner::proc(proc);
      out.bpf_unused_ = why;
      return Result(std::move(out));
    }));
  };
  if (from == OwnerSource::kProc) return with_proc({});
  auto bpf_error = [from](const Error& e) {
    Error out = e;
    out.message = "owners from BPF: " + e.message;
    return out;
  };
  if (proc != "/proc") {
    Error e{Error::Code::kUnsupported, "a procfs other than /proc was asked for", 0, {}};
    if (from == OwnerSource::kBpf) return std::unexpected(bpf_error(e));
    return with_proc(e.message);
  }
  if (from == OwnerSource::kAuto) {
    // Everything on the thread: any failure falls back to /proc there.
    return PendingOwners(std::async(std::launch::async, [proc]() -> Result {
      std::string why;
      if (auto it = host_detail::prepare_task_file_iterator()) {
        if (auto owners = Scanner::bpf(*it))
          return owners;
        else
          why = owners.error().what();
      } else {
        why = it.error().what();
      }
      ProcessOwners out = Scanner::proc(proc);
      out.bpf_unused_ = std::move(why);
      return out;
    }));
  }
  // kBpf: what can fail (rights, BTF, the verifier) fails here, before any output.
  auto iterator = host_detail::prepare_task_file_iterator();
  if (!iterator) return std::unexpected(bpf_error(iterator.error()));
  return PendingOwners(
      std::async(std::launch::async, [it = std::move(*iterator), bpf_error]() -> Result {
        auto owners = Scanner::bpf(it);
        if (!owners) return std::unexpected(bpf_error(owners.error()));
        return owners;
      }));
}

std::span<const ProcessOwner> ProcessOwners::of(std::uint64_t inode) const {
  if (inode == 0 || slots_.empty()) return {};
  const std::uint32_t slot = slots_[slot_of(inode)];
  if (slot == 0) return {};
  std::size_t end = slot;  // one past the first owner; the others follow it
  while (end < inodes_.size() && inodes_[end] == inode) ++end;
  return {owners_.data() + slot - 1, end - (slot - 1)};
}

OwnerMissing ProcessOwners::why_missing(const SocketRecord& r) const {
  if (!of(r.inode).empty()) return OwnerMissing::kNone;
  if (r.inode == 0) {
    return r.state == SocketState::kTimeWait ? OwnerMissing::kTimeWait : OwnerMissing::kKernelOwned;
  }
  if (denied_ > 0 && r.uid != euid_) return OwnerMissing::kNoPermission;
  if (r.netns != 0 && netns_ != 0 && r.netns != netns_) return OwnerMissing::kOtherNetns;
  return OwnerMissing::kNoProcess;
}

}  // namespace sockscope
