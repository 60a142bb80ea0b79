// inet_diag filter programs (INET_DIAG_REQ_BYTECODE) for the netlink source:
// the autobound halves, and the two balanced halves that let two threads share
// one TCP dump and still learn every socket's autobound bit. Internal to the
// host layer.
//
// The kernel's dump is mostly the per-socket work of filling messages
// (inet_sk_diag_fill, ~650 ns a socket here); walking past a socket a filter
// rejects costs ~100 ns. Two requests that each fill half the sockets run side
// by side in about half the time. The split must be balanced on any host and
// still say, per socket, whether the kernel chose the local port (the AUTO
// test, the only way sock_diag tells it). So each socket gets a parity bit
// that user space can recompute from the record:
//
//   parity = bit 10 of the local port XOR bit 10 of the remote port
//
// (stripes of 1,024 ports: one side of nearly every connection has a port the
// kernel picked at random from a range many stripes wide, which makes the
// parity a fair coin whichever side it is). Half "same" takes the sockets
// whose parity equals their autobound bit, half "differ" the others; each
// socket is in exactly one, and autobound = parity (same) or !parity (differ).
//
// The kernel's audit (inet_diag_bc_audit) wants every instruction on the chain
// of "yes" jumps from the first to the end, and every "no" target on that
// chain: the programs below are binary decision trees laid out in preorder
// (the "yes" child next, the "no" child further on), with INET_DIAG_BC_JMP (it
// always takes "no") for leaves. Landing exactly on the end accepts, four
// bytes past it rejects.
#pragma once

#include <linux/inet_diag.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sockscope::host_detail {

// Which sockets a request asks for.
enum class DumpPart : std::uint8_t {
  kAll,      // no filter, no autobound bit
  kAuto,     // the kernel chose the local port
  kNotAuto,  // the local port was bound explicitly (or the socket is a listener)
  kSame,     // split parity == autobound bit
  kDiffer,   // split parity != autobound bit
};

// Bit 10 of the local port XOR bit 10 of the remote port.
constexpr bool split_parity(std::uint16_t local_port, std::uint16_t remote_port) {
  return (((local_port ^ remote_port) >> 10) & 1) != 0;
}

// The autobound bit of a socket the kernel returned for `part` (kAll: no answer).
constexpr bool autobound_in(DumpPart part, std::uint16_t local_port, std::uint16_t remote_port) {
  switch (part) {
    case DumpPart::kAuto: return true;
    case DumpPart::kSame: return split_parity(local_port, remote_port);
    case DumpPart::kDiffer: return !split_parity(local_port, remote_port);
    case DumpPart::kAll:
    case DumpPart::kNotAuto: return false;
  }
  return false;
}

// The program for `part`, empty for kAll (no filter attribute at all).
std::vector<inet_diag_bc_op> diag_program(DumpPart part);

// A user's filter program (SocketFilter::bytecode()) ahead of `tail` (a part's
// program): what the user's program accepts (it lands on its end) falls into
// `tail`; its rejects (four bytes past its end) are moved four bytes past the
// end of both. Nothing else changes: its other jumps stay inside it, and the
// audit's chain of "yes" steps runs on from its end into `tail`. nullopt when
// a moved jump no longer fits 16 bits or the user's program is malformed.
std::optional<std::vector<std::uint8_t>> compose(std::span<const std::uint8_t> user,
                                                 std::span<const inet_diag_bc_op> tail);

}  // namespace sockscope::host_detail
