// The state tracer's program, hand-assembled (see bpf_program.hpp for why), its
// two maps, the attachment and the ring buffer's consumer side.
#include "host/state_tracer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "host/bpf_program.hpp"

namespace sockscope::host_detail {
namespace {

using namespace bpf;

// Offsets in the record (StateChange).
template <class T>
constexpr std::int16_t at(T StateChange::*member) {
  return std::int16_t(
      reinterpret_cast<std::size_t>(&(static_cast<StateChange*>(nullptr)->*member)));
}

// The kernel's TCP states the log wants (include/net/tcp_states.h).
constexpr std::int32_t kEstablished = 1, kSynSent = 2, kClose = 7, kListen = 10;

// r1 = the map (a 64-bit immediate: two instructions).
void load_map(std::vector<bpf_insn>& p, std::uint8_t dst, int map_fd) {
  p.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_fd));
  p.push_back(insn(0, 0, 0, 0, 0));
}

// Copies `bytes` (a multiple of 4) from r7 + from to the record (r9) + to.
void copy_words(std::vector<bpf_insn>& p, std::uint32_t from, std::int16_t to, int bytes) {
  for (int k = 0; k < bytes; k += 4) {
    p.push_back(load(BPF_W, kR2, kR7, std::int16_t(from + std::uint32_t(k))));
    p.push_back(store(BPF_W, kR9, std::int16_t(to + k), kR2));
  }
}

// The record's fields from the socket (r7) and the states (r8 new, ctx + 8 old).
void fill_from_socket(std::vector<bpf_insn>& p, const SockStateLayout& l) {
  auto o = [](std::uint32_t off) { return std::int16_t(off); };
  p.push_back(store(BPF_B, kR9, at(&StateChange::new_state), kR8));
  p.push_back(load(BPF_DW, kR2, kR6, 8));
  p.push_back(store(BPF_B, kR9, at(&StateChange::old_state), kR2));
  p.push_back(load(BPF_H, kR2, kR7, o(l.family)));
  p.push_back(store(BPF_H, kR9, at(&StateChange::family), kR2));
  p.push_back(load(BPF_H, kR2, kR7, o(l.num)));
  p.push_back(store(BPF_H, kR9, at(&StateChange::sport), kR2));
  p.push_back(load(BPF_H, kR2, kR7, o(l.dport)));
  p.push_back(store(BPF_H, kR9, at(&StateChange::dport), kR2));
  copy_words(p, l.rcv_saddr, at(&StateChange::saddr4), 4);
  copy_words(p, l.daddr, at(&StateChange::daddr4), 4);
  copy_words(p, l.v6_rcv_saddr, at(&StateChange::saddr6), 16);
  copy_words(p, l.v6_daddr, at(&StateChange::daddr6), 16);
  p.push_back(store_imm(BPF_W, kR9, at(&StateChange::has_counters), 0));
  // The namespace: sk->__sk_common.skc_net.net->ns.inum (0 without one).
  p.push_back(store_imm(BPF_W, kR9, at(&StateChange::netns), 0));
  p.push_back(load(BPF_DW, kR2, kR7, o(l.net)));
  p.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, kR2, 0, 2, 0));
  p.push_back(load(BPF_W, kR2, kR2, o(l.net_inum)));
  p.push_back(store(BPF_W, kR9, at(&StateChange::netns), kR2));
}

// The helpers' part: cookie, time, process, uid, command.
void fill_from_helpers(std::vector<bpf_insn>& p) {
  p.push_back(mov_reg(kR1, kR7));
  p.push_back(call(BPF_FUNC_get_socket_cookie));
  p.push_back(store(BPF_DW, kR9, at(&StateChange::cookie), kR0));
  p.push_back(call(BPF_FUNC_ktime_get_ns));
  p.push_back(store(BPF_DW, kR9, at(&StateChange::time_ns), kR0));
  p.push_back(call(BPF_FUNC_get_current_pid_tgid));
  p.push_back(rsh_imm(kR0, 32));
  p.push_back(store(BPF_W, kR9, at(&StateChange::tgid), kR0));
  p.push_back(call(BPF_FUNC_get_current_uid_gid));
  p.push_back(store(BPF_W, kR9, at(&StateChange::uid), kR0));
  p.push_back(mov_reg(kR1, kR9));
  p.push_back(add_imm(kR1, at(&StateChange::comm)));
  p.push_back(mov_imm(kR2, 16));
  p.push_back(call(BPF_FUNC_get_current_comm));
}

// On a change to CLOSE (r8): the tcp_sock's counters (bpf_skc_to_tcp_sock).
void fill_counters(std::vector<bpf_insn>& p, const SockStateLayout& l) {
  auto o = [](std::uint32_t off) { return std::int16_t(off); };
  const std::size_t not_close = p.size();
  p.push_back(jump_if_imm(BPF_JNE, kR8, kClose));
  p.push_back(mov_reg(kR1, kR7));
  p.push_back(call(BPF_FUNC_skc_to_tcp_sock));
  const std::size_t no_tcp = p.size();
  p.push_back(jump_if_imm(BPF_JEQ, kR0, 0));
  for (auto [from, to] : {std::pair{l.bytes_acked, at(&StateChange::bytes_acked)},
                          std::pair{l.bytes_received, at(&StateChange::bytes_received)},
                          std::pair{l.bytes_sent, at(&StateChange::bytes_sent)},
                          std::pair{l.bytes_retrans, at(&StateChange::bytes_retrans)}}) {
    p.push_back(load(BPF_DW, kR2, kR0, o(from)));
    p.push_back(store(BPF_DW, kR9, to, kR2));
  }
  for (auto [from, to] : {std::pair{l.segs_out, at(&StateChange::segs_out)},
                          std::pair{l.segs_in, at(&StateChange::segs_in)},
                          std::pair{l.total_retrans, at(&StateChange::total_retrans)}}) {
    p.push_back(load(BPF_W, kR2, kR0, o(from)));
    p.push_back(store(BPF_W, kR9, to, kR2));
  }
  p.push_back(store_imm(BPF_W, kR9, at(&StateChange::has_counters), 1));
  for (std::size_t j : {not_close, no_tcp}) p[j].off = std::int16_t(p.size() - (j + 1));
}

std::expected<int, Error> create_map(bpf_map_type type, std::uint32_t key, std::uint32_t value,
                                     std::uint32_t entries, const char* name) {
  bpf_attr a{};
  a.map_type = type;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = entries;
  std::strncpy(a.map_name, name, sizeof a.map_name - 1);
  const int fd = int(sys_bpf(BPF_MAP_CREATE, &a));
  if (fd < 0) return std::unexpected(Error::os(std::string("bpf(BPF_MAP_CREATE) ") + name, errno));
  return fd;
}

}  // namespace

std::expected<std::vector<bpf_insn>, Error> build_state_program(const SockStateLayout& l,
                                                                int ring_fd, int lost_fd) {
  for (std::uint32_t off :
       {l.family, l.num, l.dport, l.rcv_saddr, l.daddr, l.v6_rcv_saddr + 12, l.v6_daddr + 12, l.net,
        l.protocol, l.net_inum, l.bytes_acked, l.bytes_received, l.bytes_sent, l.bytes_retrans,
        l.segs_out, l.segs_in, l.total_retrans}) {
    if (off > 32767) {
      return std::unexpected(Error{
          Error::Code::kUnsupported,
          "BTF: a struct sock offset (" + std::to_string(off) + ") does not fit a BPF instruction",
          0,
          {}});
    }
  }
  std::vector<bpf_insn> p;
  std::vector<std::size_t> to_out, to_lost, to_keep;
  p.push_back(mov_reg(kR6, kR1));
  p.push_back(load(BPF_DW, kR8, kR6, 16));  // the new state
  for (std::int32_t s : {kEstablished, kSynSent, kClose, kListen}) {
    to_keep.push_back(p.size());
    p.push_back(jump_if_imm(BPF_JEQ, kR8, s));
  }
  to_out.push_back(p.size());
  p.push_back(jump(0));
  for (std::size_t j : to_keep) p[j].off = std::int16_t(p.size() - (j + 1));
  p.push_back(load(BPF_DW, kR7, kR6, 0));  // the socket
  p.push_back(load(BPF_H, kR2, kR7, std::int16_t(l.protocol)));
  to_out.push_back(p.size());
  p.push_back(jump_if_imm(BPF_JNE, kR2, 6));  // IPPROTO_TCP (the tracepoint also fires for others)
  load_map(p, kR1, ring_fd);
  p.push_back(mov_imm(kR2, sizeof(StateChange)));
  p.push_back(mov_imm(kR3, 0));
  p.push_back(call(BPF_FUNC_ringbuf_reserve));
  to_lost.push_back(p.size());
  p.push_back(jump_if_imm(BPF_JEQ, kR0, 0));
  p.push_back(mov_reg(kR9, kR0));
  fill_from_socket(p, l);
  fill_from_helpers(p);
  fill_counters(p, l);
  p.push_back(mov_reg(kR1, kR9));
  p.push_back(mov_imm(kR2, 0));
  p.push_back(call(BPF_FUNC_ringbuf_submit));
  to_out.push_back(p.size());
  p.push_back(jump(0));
  // lost: the array's one counter += 1
  const std::size_t lost = p.size();
  p.push_back(store_imm(BPF_W, kFp, -4, 0));
  load_map(p, kR1, lost_fd);
  p.push_back(mov_reg(kR2, kFp));
  p.push_back(add_imm(kR2, -4));
  p.push_back(call(BPF_FUNC_map_lookup_elem));
  to_out.push_back(p.size());
  p.push_back(jump_if_imm(BPF_JEQ, kR0, 0));
  p.push_back(mov_imm(kR1, 1));
  p.push_back(insn(BPF_STX | BPF_ATOMIC | BPF_DW, kR0, kR1, 0, BPF_ADD));
  // out: return 0
  const std::size_t out = p.size();
  p.push_back(mov_imm(kR0, 0));
  p.push_back(exit_insn());
  for (std::size_t j : to_out) p[j].off = std::int16_t(out - (j + 1));
  for (std::size_t j : to_lost) p[j].off = std::int16_t(lost - (j + 1));
  return p;
}

std::expected<StateTracer, Error> StateTracer::open(std::size_t ring_bytes) {
  if (!may_load_tracing_programs()) {
    return std::unexpected(Error{
        Error::Code::kPermission, "the state tracer needs CAP_BPF and CAP_PERFMON (root)", 0, {}});
  }
  auto btf = BtfFile::open("/sys/kernel/btf/vmlinux");
  if (!btf) return std::unexpected(btf.error());
  auto layout = find_sock_state_layout(btf->bytes());
  if (!layout) return std::unexpected(layout.error());
  StateTracer t;
  t.page_ = std::size_t(::sysconf(_SC_PAGESIZE));
  t.ring_bytes_ = ring_bytes;
  auto ring = create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, std::uint32_t(ring_bytes), "sockscope_ring");
  if (!ring) return std::unexpected(ring.error());
  t.ring_fd_ = *ring;
  auto lost = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, "sockscope_lost");
  if (!lost) return std::unexpected(lost.error());
  t.lost_fd_ = *lost;
  auto program = build_state_program(*layout, t.ring_fd_, t.lost_fd_);
  if (!program) return std::unexpected(program.error());
  auto prog = load_tracing_program(*program, BPF_TRACE_RAW_TP, layout->attach_btf_id,
                                   "sockscope_state", "inet_sock_set_state");
  if (!prog) return std::unexpected(prog.error());
  t.prog_fd_ = *prog;
  t.consumer_ = ::mmap(nullptr, t.page_, PROT_READ | PROT_WRITE, MAP_SHARED, t.ring_fd_, 0);
  t.producer_ =
      ::mmap(nullptr, t.page_ + 2 * ring_bytes, PROT_READ, MAP_SHARED, t.ring_fd_, off_t(t.page_));
  if (t.consumer_ == MAP_FAILED || t.producer_ == MAP_FAILED) {
    const int e = errno;
    if (t.consumer_ == MAP_FAILED) t.consumer_ = nullptr;
    if (t.producer_ == MAP_FAILED) t.producer_ = nullptr;
    return std::unexpected(Error::os("mapping the BPF ring buffer", e));
  }
  bpf_attr a{};
  a.raw_tracepoint.prog_fd = std::uint32_t(t.prog_fd_);  // name 0: the program's BTF target
  t.link_fd_ = int(sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a));
  if (t.link_fd_ < 0) {
    return std::unexpected(
        Error::os("bpf(BPF_RAW_TRACEPOINT_OPEN) sock:inet_sock_set_state", errno));
  }
  return t;
}

StateTracer::StateTracer(StateTracer&& o) noexcept
    : ring_fd_(o.ring_fd_),
      lost_fd_(o.lost_fd_),
      prog_fd_(o.prog_fd_),
      link_fd_(o.link_fd_),
      consumer_(o.consumer_),
      producer_(o.producer_),
      ring_bytes_(o.ring_bytes_),
      page_(o.page_) {
  o.ring_fd_ = o.lost_fd_ = o.prog_fd_ = o.link_fd_ = -1;
  o.consumer_ = o.producer_ = nullptr;
}

StateTracer::~StateTracer() {
  if (link_fd_ >= 0) ::close(link_fd_);  // detaches first: nothing writes any more
  if (consumer_) ::munmap(consumer_, page_);
  if (producer_) ::munmap(producer_, page_ + 2 * ring_bytes_);
  for (int fd : {prog_fd_, lost_fd_, ring_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

std::size_t StateTracer::consume(const std::function<void(const StateChange&)>& fn) {
  auto* consumer = static_cast<std::uint64_t*>(consumer_);
  const auto* producer = static_cast<const std::uint64_t*>(producer_);
  const auto* data = static_cast<const std::uint8_t*>(producer_) + page_;
  std::uint64_t cons = __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
  std::size_t handed = 0;
  // Bounded: at most one ring's worth of records per call.
  for (std::size_t seen = 0; seen < ring_bytes_ / 8;) {
    const std::uint64_t prod = __atomic_load_n(producer, __ATOMIC_ACQUIRE);
    if (cons >= prod) break;
    const std::uint8_t* header = data + (cons & (ring_bytes_ - 1));
    const std::uint32_t len =
        __atomic_load_n(reinterpret_cast<const std::uint32_t*>(header), __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT) break;  // reserved, not yet submitted
    const std::uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT) && size >= sizeof(StateChange)) {
      StateChange c;
      std::memcpy(&c, header + BPF_RINGBUF_HDR_SZ, sizeof c);
      fn(c);
      ++handed;
    }
    cons += (std::uint64_t(size) + BPF_RINGBUF_HDR_SZ + 7) & ~std::uint64_t{7};
    __atomic_store_n(consumer, cons, __ATOMIC_RELEASE);
    ++seen;
  }
  return handed;
}

std::uint64_t StateTracer::lost() const {
  std::uint32_t key = 0;
  std::uint64_t value = 0;
  bpf_attr a{};
  a.map_fd = std::uint32_t(lost_fd_);
  a.key = ptr(&key);
  a.value = ptr(&value);
  if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) != 0) return 0;
  return value;
}

}  // namespace sockscope::host_detail
