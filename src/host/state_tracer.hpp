// The state tracer: a BPF program on the stable tracepoint
// sock:inet_sock_set_state (tp_btf), which sees every TCP state change as it
// happens, in the context of the process that caused it when there is one
// (connect(), listen(), close()), and hands it to user space through a ring
// buffer. Internal to the host layer; the connection log is its user.
//
//   auto tracer = StateTracer::open();          // root, BTF, Linux 5.8+ (ring buffer)
//   poll(tracer->fd(), ...);
//   tracer->consume([](const StateChange& c) { c.cookie; c.new_state; c.tgid; });
//   tracer->lost();                             // records the full ring refused
//
// Only the changes the log needs reach user space: to SYN_SENT (the pid at
// connect()), ESTABLISHED, LISTEN and CLOSE (with the state it left and the
// connection's counters), TCP only.
// No kprobes or fexit: tracepoints are the stable interface (this kernel
// refuses fexit). The program, its maps and the attachment end with the object.
// Thread safety: one thread at a time.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <vector>

#include "host/btf.hpp"
#include "sockscope/error.hpp"

namespace sockscope::host_detail {

// One record as the program writes it into the ring.
struct StateChange {
  std::uint64_t time_ns;  // CLOCK_MONOTONIC (bpf_ktime_get_ns)
  std::uint64_t cookie;   // the socket cookie (the same as sock_diag's)
  std::uint32_t tgid;     // the current process (meaningless in softirq context)
  std::uint32_t uid;
  std::uint32_t netns;   // inode of the socket's network namespace
  std::uint16_t family;  // AF_INET or AF_INET6
  std::uint16_t sport;   // host order
  std::uint16_t dport;   // network order
  std::uint8_t old_state, new_state;
  std::uint32_t saddr4;  // network order
  std::uint8_t saddr6[16];
  std::uint8_t daddr6[16];
  char comm[16];
  std::uint32_t daddr4;
  std::uint32_t has_counters;  // 1: a change to CLOSE, with the counters below
  // tcp_sock's counters at CLOSE: an abort (close with SO_LINGER 0) clears them
  // in tcp_disconnect() right after, so the destroy message reports zeros.
  std::uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
  std::uint32_t segs_out, segs_in, total_retrans, pad;
};
static_assert(sizeof(StateChange) == 144);

// The program for `layout`, writing into the ring `ring_fd` and counting
// refused records in the array `lost_fd`.
std::expected<std::vector<bpf_insn>, Error> build_state_program(const SockStateLayout& layout,
                                                                int ring_fd, int lost_fd);

class StateTracer {
 public:
  // Rights, BTF, maps, load, attach, and the ring mapped. `ring_bytes`: a power
  // of two, at least a page.
  static std::expected<StateTracer, Error> open(std::size_t ring_bytes = std::size_t{8} << 20);
  StateTracer(StateTracer&& o) noexcept;
  StateTracer& operator=(StateTracer&&) = delete;
  ~StateTracer();

  int fd() const { return ring_fd_; }  // readable when records wait
  // Hands every record committed so far to `fn`; the number handed.
  std::size_t consume(const std::function<void(const StateChange&)>& fn);
  // Records the program could not write because the ring was full.
  std::uint64_t lost() const;

 private:
  StateTracer() = default;
  int ring_fd_ = -1, lost_fd_ = -1, prog_fd_ = -1, link_fd_ = -1;
  void* consumer_ = nullptr;  // the consumer position page (read-write)
  void* producer_ = nullptr;  // producer position page + the data, mapped twice
  std::size_t ring_bytes_ = 0, page_ = 0;
};

}  // namespace sockscope::host_detail
