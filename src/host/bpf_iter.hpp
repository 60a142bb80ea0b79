// Socket descriptors of every process, listed in the kernel by a BPF iterator
// of type task_file: the fast source of ProcessOwners. Internal to the host layer.
//
//   auto it = prepare_task_file_iterator();     // needs root (CAP_BPF + CAP_PERFMON)
//   if (it) it->for_each([](const SocketFile& f) { ... f.tgid, f.fd, f.inode, f.comm });
//
// The /proc/PID/fd walk costs a readlinkat (~4.5 µs) per descriptor; the
// iterator visits the same descriptors in the kernel and hands back 32 bytes per
// socket through read(). No libbpf: the offsets come from btf.hpp's reader,
// the program is assembled here, three bpf() calls load, attach and open it.
//
// Same view as /proc/PID/fd: only each process's leader table (a thread that
// unshared its descriptor table is skipped, as /proc/PID/fd does not show it),
// pid = the thread group id, command = the leader's comm, the caller's PID
// namespace (callers check it is the initial one: tgid is the kernel's global id).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <vector>

#include "host/btf.hpp"
#include "sockscope/error.hpp"

namespace sockscope::host_detail {

// One record as the program writes it (bpf_seq_write of the stack copy).
struct SocketFile {
  std::uint32_t tgid;
  std::uint32_t fd;
  std::uint64_t inode;
  char comm[16];  // NUL-terminated unless all 16 bytes are used
};
static_assert(sizeof(SocketFile) == 32);

// The program for `layout`; an Error when an offset does not fit an instruction.
std::expected<std::vector<bpf_insn>, Error> build_task_file_program(
    const IterTaskFileLayout& layout);

// A loaded and attached iterator; every read creates a fresh iteration.
class TaskFileIterator {
 public:
  // BPF_PROG_LOAD (the verifier's log becomes the error message) and BPF_LINK_CREATE.
  static std::expected<TaskFileIterator, Error> load(const IterTaskFileLayout& layout);
  TaskFileIterator(TaskFileIterator&& o) noexcept : prog_(o.prog_), link_(o.link_) {
    o.prog_ = o.link_ = -1;
  }
  TaskFileIterator& operator=(TaskFileIterator&&) = delete;
  ~TaskFileIterator();

  // BPF_ITER_CREATE, then read() in large chunks until the end, handing each
  // record to `fn` (nothing is kept); the number of records.
  std::expected<std::size_t, Error> for_each(
      const std::function<void(const SocketFile&)>& fn) const;
  // for_each() into a vector.
  std::expected<std::vector<SocketFile>, Error> read_all() const;

 private:
  TaskFileIterator(int prog, int link) : prog_(prog), link_(link) {}
  int prog_ = -1;
  int link_ = -1;
};

// Everything before the iteration: the rights, the PID namespace, the vmlinux
// BTF, the layout, load and attach.
std::expected<TaskFileIterator, Error> prepare_task_file_iterator();

}  // namespace sockscope::host_detail
