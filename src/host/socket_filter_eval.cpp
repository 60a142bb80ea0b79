// The filter on one record, as the kernel's inet_diag_bc_run() decides it and
// as ss's run_ssfilter() re-decides it in user space, and the canonical text.
// Standard library only (fuzzed).
#include <array>
#include <cstring>
#include <string>

#include "host/socket_filter_ast.hpp"

namespace sockscope::filter_detail {
namespace {

// The first `bits` bits of a and b agree (bitstring_match / inet_addr_match).
bool leading_bits_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned full = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = std::uint8_t(0xff << (8 - rest));
  return ((a[full] ^ b[full]) & mask) == 0;
}

// An address as ss holds it in user space: its bytes, zero-padded to 16.
std::array<std::uint8_t, 16> padded(const IpAddress& a) {
  std::array<std::uint8_t, 16> out{};
  auto b = a.bytes();
  std::memcpy(out.data(), b.data(), b.size());
  return out;
}

bool kernel_address(const HostCond& c, const IpAddress& a) {
  const IpAddress& want = *c.address;
  if (want.family() != a.family()) {
    // An IPv4 condition also takes an IPv6 socket's IPv4-mapped address.
    return want.is_v4() && a.is_v4_mapped() &&
           leading_bits_equal(a.bytes().data() + 12, want.bytes().data(), c.prefix_len);
  }
  return leading_bits_equal(a.bytes().data(), want.bytes().data(), c.prefix_len);
}

// ss's inet2_addr_match(): no family check, then the mapped special case.
bool user_space_address(const HostCond& c, const IpAddress& a) {
  if (c.prefix_len == 0) return true;
  const auto have = padded(a), want = padded(*c.address);
  if (leading_bits_equal(have.data(), want.data(), c.prefix_len)) return true;
  return c.address->is_v4() && a.is_v6() && a.is_v4_mapped() &&
         leading_bits_equal(have.data() + 12, want.data(), c.prefix_len);
}

bool host_matches(const HostCond& c, const Endpoint& ep, const SocketRecord& r, FilterSide side) {
  if (c.port && *c.port != ep.port) return false;
  if (c.ifindex != 0 && c.ifindex != r.ifindex) return false;
  if (!c.address) return true;
  return side == FilterSide::kKernel ? kernel_address(c, ep.address)
                                     : user_space_address(c, ep.address);
}

bool port_matches(Compare c, Port have, Port want) {
  switch (c) {
    case Compare::kEq: return have == want;
    case Compare::kNe: return have != want;
    case Compare::kLt: return have < want;
    case Compare::kLe: return have <= want;
    case Compare::kGt: return have > want;
    case Compare::kGe: return have >= want;
  }
  return false;
}

// The kernel's AUTO test: !(userlocks & SOCK_BINDPORT_LOCK); minisockets have
// userlocks 0. Where the source could not learn the bit (the /proc text),
// the user-space answer stands in, as it does for ss reading /proc.
bool kernel_autobound(const Filter& f, const SocketRecord& r) {
  if (r.autobound) return *r.autobound;
  if (r.state == SocketState::kTimeWait || r.state == SocketState::kSynRecv) return true;
  return f.ephemeral.contains(r.local.port);
}

std::string_view symbol(Compare c) {
  constexpr std::string_view kSymbols[] = {"=", "!=", "<", "<=", ">", ">="};
  return kSymbols[unsigned(c)];
}

std::string host_text(const HostCond& h, std::string& family) {
  std::string out = std::move(family);
  family.clear();
  if (!h.address) {
    out += "*";
  } else {
    const bool v6 = h.address->is_v6();
    if (v6) out += '[';
    out += h.address->to_string();
    if (!h.zone.empty()) out.append("%").append(h.zone);
    if (h.prefix_written) out.append("/").append(std::to_string(h.prefix_len));
    if (v6) out += ']';
  }
  if (h.port) out.append(":").append(std::to_string(*h.port));
  return out;
}

}  // namespace

bool evaluate(const Filter& f, int n, const SocketRecord& r, FilterSide side) {
  const Node& node = f.nodes[std::size_t(n)];
  switch (node.kind) {
    case Kind::kAnd:
      for (int c : node.children) {
        if (!evaluate(f, c, r, side)) return false;
      }
      return true;
    case Kind::kOr:
      for (int c : node.children) {
        if (evaluate(f, c, r, side)) return true;
      }
      return false;
    case Kind::kNot: return !evaluate(f, node.children[0], r, side);
    case Kind::kTrue: return true;
    case Kind::kFalse: return false;
    case Kind::kPort:
      return port_matches(node.compare, node.local ? r.local.port : r.remote.port, node.port);
    case Kind::kAuto:
      return side == FilterSide::kKernel ? kernel_autobound(f, r)
                                         : f.ephemeral.contains(r.local.port);
    case Kind::kHost: return host_matches(node.host, node.local ? r.local : r.remote, r, side);
  }
  return false;
}

std::string print(const Filter& f, int n, std::string& family) {
  const Node& node = f.nodes[std::size_t(n)];
  auto nested = [&](int c) {
    const Kind k = f.nodes[std::size_t(c)].kind;
    if (k != Kind::kAnd && k != Kind::kOr) return print(f, c, family);
    std::string s = "( ";
    s.append(print(f, c, family)).append(" )");
    return s;
  };
  const std::string_view port_word = node.local ? "sport" : "dport";
  switch (node.kind) {
    case Kind::kAnd:
    case Kind::kOr: {
      std::string out;
      for (int c : node.children) {
        if (!out.empty()) out += node.kind == Kind::kAnd ? " and " : " or ";
        out += nested(c);
      }
      return out;
    }
    case Kind::kNot: return "not " + nested(node.children[0]);
    case Kind::kTrue:
    case Kind::kFalse:
    case Kind::kPort: {
      const Compare c = node.kind == Kind::kTrue    ? Compare::kEq
                        : node.kind == Kind::kFalse ? Compare::kNe
                                                    : node.compare;
      std::string out = std::string(port_word) + " " + std::string(symbol(c)) + " " + family + ":";
      family.clear();
      return out + (node.kind == Kind::kPort ? std::to_string(node.port) : "*");
    }
    case Kind::kAuto: return "autobound";
    case Kind::kHost:
      return std::string(node.local ? "src " : "dst ") + host_text(node.host, family);
  }
  return {};
}

}  // namespace sockscope::filter_detail
