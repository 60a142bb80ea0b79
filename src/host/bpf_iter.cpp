// The task_file iterator program, hand-assembled, and the three bpf() calls
// that run it. See bpf_iter.hpp for what it lists and why.
#include "host/bpf_iter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "host/bpf_program.hpp"

namespace sockscope::host_detail {
namespace {

using namespace bpf;

constexpr std::int32_t kSockfsMagic = 0x534F434B;           // linux/magic.h SOCKFS_MAGIC
constexpr std::int32_t kIfMt = 0170000, kIfSock = 0140000;  // S_IFMT, S_IFSOCK

// The record on the program's stack: r10 - 32 .. r10 - 1, laid out as SocketFile.
constexpr std::int16_t kRec = -32;
constexpr std::int16_t kRecTgid = std::int16_t(kRec + int(offsetof(SocketFile, tgid)));
constexpr std::int16_t kRecFd = std::int16_t(kRec + int(offsetof(SocketFile, fd)));
constexpr std::int16_t kRecInode = std::int16_t(kRec + int(offsetof(SocketFile, inode)));
constexpr std::int16_t kRecComm = std::int16_t(kRec + int(offsetof(SocketFile, comm)));

}  // namespace

std::expected<std::vector<bpf_insn>, Error> build_task_file_program(const IterTaskFileLayout& l) {
  // Every offset must fit a 16-bit instruction offset (comm + 8 is the largest use).
  for (std::uint32_t off :
       {l.ctx_meta, l.ctx_task, l.ctx_fd, l.ctx_file, l.meta_seq, l.task_pid, l.task_tgid,
        l.task_comm + 8, l.file_inode, l.inode_mode, l.inode_ino, l.inode_sb, l.sb_magic}) {
    if (off > 32767) {
      return std::unexpected(
          Error{Error::Code::kUnsupported,
                "BTF: a field offset (" + std::to_string(off) + ") does not fit a BPF instruction",
                0,
                {}});
    }
  }
  auto o = [](std::uint32_t off) { return std::int16_t(off); };
  std::vector<bpf_insn> p;
  std::vector<std::size_t> to_out;  // jumps that skip this file
  auto skip_if = [&](bpf_insn j) {
    to_out.push_back(p.size());
    p.push_back(j);
  };
  // r6 = ctx; r7 = ctx->task, r8 = ctx->file: both NULL on the final call.
  p.push_back(mov_reg(kR6, kR1));
  p.push_back(load(BPF_DW, kR7, kR6, o(l.ctx_task)));
  skip_if(jump_if_imm(BPF_JEQ, kR7, 0));
  p.push_back(load(BPF_DW, kR8, kR6, o(l.ctx_file)));
  skip_if(jump_if_imm(BPF_JEQ, kR8, 0));
  // Only the thread group leader's table, as /proc/PID/fd shows it
  // (task->pid == task->tgid; r3 keeps the tgid for the record).
  p.push_back(load(BPF_W, kR2, kR7, o(l.task_pid)));
  p.push_back(load(BPF_W, kR3, kR7, o(l.task_tgid)));
  skip_if(jump_if_reg(BPF_JNE, kR2, kR3));
  // r9 = file->f_inode; a socket: (i_mode & S_IFMT) == S_IFSOCK and on sockfs
  // (an O_PATH descriptor of a unix socket's file on disk is S_IFSOCK too, but
  // /proc shows its path, not "socket:[N]").
  p.push_back(load(BPF_DW, kR9, kR8, o(l.file_inode)));
  skip_if(jump_if_imm(BPF_JEQ, kR9, 0));
  p.push_back(load(BPF_H, kR2, kR9, o(l.inode_mode)));
  p.push_back(and_imm(kR2, kIfMt));
  skip_if(jump_if_imm(BPF_JNE, kR2, kIfSock));
  p.push_back(load(BPF_DW, kR2, kR9, o(l.inode_sb)));
  skip_if(jump_if_imm(BPF_JEQ, kR2, 0));
  p.push_back(load(BPF_DW, kR2, kR2, o(l.sb_magic)));
  skip_if(jump_if_imm(BPF_JNE, kR2, kSockfsMagic));
  // The record on the stack: tgid, fd, inode->i_ino, task->comm (two 8-byte words).
  p.push_back(store(BPF_W, kFp, kRecTgid, kR3));
  p.push_back(load(BPF_W, kR2, kR6, o(l.ctx_fd)));
  p.push_back(store(BPF_W, kFp, kRecFd, kR2));
  p.push_back(load(BPF_DW, kR2, kR9, o(l.inode_ino)));
  p.push_back(store(BPF_DW, kFp, kRecInode, kR2));
  p.push_back(load(BPF_DW, kR2, kR7, o(l.task_comm)));
  p.push_back(store(BPF_DW, kFp, kRecComm, kR2));
  p.push_back(load(BPF_DW, kR2, kR7, o(l.task_comm + 8)));
  p.push_back(store(BPF_DW, kFp, kRecComm + 8, kR2));
  // bpf_seq_write(ctx->meta->seq, r10 - 32, 32)
  p.push_back(load(BPF_DW, kR1, kR6, o(l.ctx_meta)));
  p.push_back(load(BPF_DW, kR1, kR1, o(l.meta_seq)));
  p.push_back(mov_reg(kR2, kFp));
  p.push_back(add_imm(kR2, kRec));
  p.push_back(mov_imm(kR3, sizeof(SocketFile)));
  p.push_back(call(BPF_FUNC_seq_write));
  // out: return 0
  const std::size_t out = p.size();
  p.push_back(mov_imm(kR0, 0));
  p.push_back(exit_insn());
  for (std::size_t j : to_out) p[j].off = std::int16_t(out - (j + 1));
  return p;
}

std::expected<TaskFileIterator, Error> TaskFileIterator::load(const IterTaskFileLayout& layout) {
  auto program = build_task_file_program(layout);
  if (!program) return std::unexpected(program.error());
  auto loaded = load_tracing_program(*program, BPF_TRACE_ITER, layout.attach_btf_id,
                                     "sockscope_own", "task_file");
  if (!loaded) return std::unexpected(loaded.error());
  const int prog = *loaded;
  bpf_attr a{};
  a.link_create.prog_fd = std::uint32_t(prog);
  a.link_create.attach_type = BPF_TRACE_ITER;  // no iter_info: every task
  const int link = int(sys_bpf(BPF_LINK_CREATE, &a));
  if (link < 0) {
    const int e = errno;
    ::close(prog);
    return std::unexpected(Error::os("bpf(BPF_LINK_CREATE)", e));
  }
  return TaskFileIterator(prog, link);
}

TaskFileIterator::~TaskFileIterator() {
  if (link_ >= 0) ::close(link_);
  if (prog_ >= 0) ::close(prog_);
}

std::expected<std::size_t, Error> TaskFileIterator::for_each(
    const std::function<void(const SocketFile&)>& fn) const {
  bpf_attr a{};
  a.iter_create.link_fd = std::uint32_t(link_);
  const int fd = int(sys_bpf(BPF_ITER_CREATE, &a));
  if (fd < 0) return std::unexpected(Error::os("bpf(BPF_ITER_CREATE)", errno));
  // The kernel fills at most its seq_file buffer (8 pages, 32 KiB) per read():
  // a larger buffer only cost zeroing and page faults. Records are never split
  // in practice, but a partial one is carried to the next read.
  constexpr std::size_t kChunk = 32 * 1024;
  constexpr std::size_t kMaxBytes = std::size_t{1} << 31;  // 67 M sockets: a bound, not a limit
  auto owned = std::make_unique_for_overwrite<std::uint8_t[]>(kChunk + sizeof(SocketFile));
  std::span<std::uint8_t> buf(owned.get(), kChunk + sizeof(SocketFile));
  std::size_t carried = 0, total = 0, records = 0;
  for (long reads = 0;; ++reads) {
    if (reads > (1L << 24) || total > kMaxBytes) {
      ::close(fd);
      return std::unexpected(Error::io("BPF iterator: more than 2 GiB of records, stopped"));
    }
    const ssize_t n = ::read(fd, buf.data() + carried, kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return std::unexpected(Error::os("reading the BPF iterator", e));
    }
    if (n == 0) break;
    total += std::size_t(n);
    const std::size_t have = carried + std::size_t(n);
    const std::size_t whole = have / sizeof(SocketFile);
    for (std::size_t k = 0; k < whole; ++k) {
      SocketFile f;
      std::memcpy(&f, buf.data() + k * sizeof f, sizeof f);
      fn(f);
    }
    records += whole;
    carried = have - whole * sizeof(SocketFile);
    std::memmove(buf.data(), buf.data() + whole * sizeof(SocketFile), carried);
  }
  ::close(fd);
  if (carried != 0) {
    return std::unexpected(
        Error{Error::Code::kTruncated,
              "BPF iterator: the last record is cut (" + std::to_string(carried) + " bytes)",
              0,
              {}});
  }
  return records;
}

std::expected<std::vector<SocketFile>, Error> TaskFileIterator::read_all() const {
  std::vector<SocketFile> files;
  auto n = for_each([&](const SocketFile& f) { files.push_back(f); });
  if (!n) return std::unexpected(n.error());
  return files;
}

std::expected<TaskFileIterator, Error> prepare_task_file_iterator() {
  if (!may_load_tracing_programs()) {
    return std::unexpected(Error{Error::Code::kPermission,
                                 "loading a BPF iterator needs CAP_BPF and CAP_PERFMON (root)",
                                 0,
                                 {}});
  }
  if (!in_initial_pid_namespace()) {
    return std::unexpected(Error{Error::Code::kUnsupported,
                                 "not in the initial PID namespace (the kernel's process ids "
                                 "would not be the ones /proc shows)",
                                 0,
                                 {}});
  }
  auto btf = BtfFile::open("/sys/kernel/btf/vmlinux");
  if (!btf) return std::unexpected(btf.error());
  auto layout = find_iter_task_file_layout(btf->bytes());
  if (!layout) return std::unexpected(layout.error());
  return TaskFileIterator::load(*layout);
}

}  // namespace sockscope::host_detail
