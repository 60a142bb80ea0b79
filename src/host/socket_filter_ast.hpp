// The parsed form of a socket filter: a tree of nodes in one vector (children
// by index), shared by the parser, the two evaluators, the bytecode compiler
// and the canonical printer. Internal to the host layer; standard library only
// (the fuzz preset builds it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sockscope/ip_address.hpp"
#include "sockscope/port.hpp"
#include "sockscope/socket_filter.hpp"

namespace sockscope {
namespace filter_detail {

enum class Kind : std::uint8_t { kAnd, kOr, kNot, kPort, kHost, kAuto, kTrue, kFalse };
enum class Compare : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// `src`/`dst` HOST: an optional prefix, an optional port, an optional zone.
struct HostCond {
  std::optional<IpAddress> address;  // nullopt: `*` or no address (kernel: AF_UNSPEC)
  unsigned prefix_len = 0;
  bool prefix_written = false;  // "/N" was given (for the canonical text)
  std::optional<Port> port;     // nullopt: any port
  std::uint32_t ifindex = 0;    // zone's interface, 0: none
  std::string zone;             // as written, for the canonical text
};

struct Node {
  Kind kind = Kind::kTrue;
  bool local = true;               // kPort/kHost: sport/src (true) or dport/dst
  Compare compare = Compare::kEq;  // kPort; kHost uses kEq or kNe
  Port port = 0;                   // kPort
  HostCond host;                   // kHost
  std::vector<int> children;       // kAnd/kOr: two or more; kNot: one
};

// The deepest nesting parse() builds (parentheses, `not`, alternating and/or):
// the evaluators and the compiler recurse that deep.
inline constexpr int kMaxDepth = 200;

// A whole filter: the tree, the states and families asked for.
struct Filter {
  std::vector<Node> nodes;
  int root = -1;  // -1: no expression
  StateMask states = kAllStates;
  bool states_given = false;
  bool ipv4 = true, ipv6 = true;
  PortRange ephemeral{32768, 60999};
  bool user_space_differs = false;  // an autobound or address test
};

}  // namespace filter_detail

// SocketFilter's private state is the tree (shared between copies).
struct SocketFilter::Impl : filter_detail::Filter {};

namespace filter_detail {

// Evaluates node `n` of `impl` on `r` as the kernel's bytecode or ss's user space would.
bool evaluate(const Filter& impl, int n, const SocketRecord& r, FilterSide side);
// Canonical text of node `n` (parenthesised where ss's left-to-right grouping
// needs it). `family` ("inet:", "inet6:" or "") goes before the first operand.
std::string print(const Filter& impl, int n, std::string& family);
// The expression as INET_DIAG_REQ_BYTECODE; nullopt when longer than max_bytes
// or a jump does not fit 16 bits.
std::optional<std::vector<std::uint8_t>> compile(const Filter& impl, std::size_t max_bytes);

}  // namespace filter_detail
}  // namespace sockscope
