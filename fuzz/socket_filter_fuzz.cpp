// ss's filter language (SocketFilter::parse). Properties: it never crashes;
// an error names a column inside the text (or just past it) and a fragment
// of it; the canonical text parses back to itself; and the bytecode passes
// the kernel's audit rules and, run the way inet_diag_bc_run() runs it, gives
// matches(r, kKernel)'s answer on records made from the input. The audit and
// the run below are a model of net/ipv4/inet_diag.c written for this check
// (the real kernel is the oracle in tests/host/socket_filter_netns_test.cpp).
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>

#include "sockscope/socket_filter.hpp"

namespace {

using sockscope::SocketRecord;

// The kernel's audit: lengths, alignment, every "no" target on the chain of "yes" steps.
bool audit(const std::vector<std::uint8_t>& bc) {
  std::set<std::size_t> chain;
  std::size_t at = 0;
  while (at < bc.size()) {
    chain.insert(at);
    inet_diag_bc_op op;
    if (bc.size() - at < sizeof op) return false;
    std::memcpy(&op, bc.data() + at, sizeof op);
    std::size_t min_len = sizeof op;
    if (op.code == INET_DIAG_BC_S_COND || op.code == INET_DIAG_BC_D_COND) {
      inet_diag_hostcond cond;
      if (bc.size() - at < sizeof op + sizeof cond) return false;
      std::memcpy(&cond, bc.data() + at + sizeof op, sizeof cond);
      const std::size_t addr = cond.family == AF_INET ? 4 : cond.family == AF_INET6 ? 16 : 0;
      if (cond.family != AF_UNSPEC && addr == 0) return false;
      if (cond.prefix_len > 8 * addr) return false;
      min_len += sizeof cond + addr;
    } else if (op.code == INET_DIAG_BC_S_GE || op.code == INET_DIAG_BC_S_LE ||
               op.code == INET_DIAG_BC_D_GE || op.code == INET_DIAG_BC_D_LE ||
               op.code == INET_DIAG_BC_DEV_COND) {
      min_len += 4;
    } else if (op.code != INET_DIAG_BC_AUTO && op.code != INET_DIAG_BC_JMP) {
      return false;
    }
    const std::size_t len = bc.size() - at;
    if (len < min_len) return false;
    if (op.no < min_len || op.no > len + 4 || (op.no & 3)) return false;
    if (op.yes < min_len || op.yes > len + 4 || (op.yes & 3)) return false;
    at += op.yes;
  }
  if (at != bc.size()) return false;
  for (std::size_t pc = 0; pc < bc.size();) {
    inet_diag_bc_op op;
    std::memcpy(&op, bc.data() + pc, sizeof op);
    if (pc + op.no < bc.size() && !chain.count(pc + op.no)) return false;
    pc += op.yes;
  }
  return true;
}

bool prefix_match(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  if (std::memcmp(a, b, bits / 8) != 0) return false;
  if (bits % 8 == 0) return true;
  const auto mask = std::uint8_t(0xff << (8 - bits % 8));
  return ((a[bits / 8] ^ b[bits / 8]) & mask) == 0;
}

bool host(const std::uint8_t* p, const SocketRecord& r, bool local) {
  inet_diag_hostcond cond;
  std::memcpy(&cond, p, sizeof cond);
  const sockscope::Endpoint& e = local ? r.local : r.remote;
  if (cond.port != -1 && cond.port != e.port) return false;
  const auto bytes = e.address.bytes();
  const int family = e.address.is_v4() ? AF_INET : AF_INET6;
  const std::uint8_t* want = p + sizeof cond;
  if (cond.family != AF_UNSPEC && cond.family != family) {
    return family == AF_INET6 && cond.family == AF_INET && e.address.is_v4_mapped() &&
           prefix_match(bytes.data() + 12, want, cond.prefix_len);
  }
  return cond.prefix_len == 0 || prefix_match(bytes.data(), want, cond.prefix_len);
}

// inet_diag_bc_run(): every step moves forward; accept by landing on the end.
bool run(const std::vector<std::uint8_t>& bc, const SocketRecord& r) {
  long len = long(bc.size());
  const std::uint8_t* p = bc.data();
  while (len > 0) {
    inet_diag_bc_op op, arg;
    std::memcpy(&op, p, sizeof op);
    std::memcpy(&arg, p + 4, len >= 8 ? sizeof arg : 0);
    bool yes = true;
    switch (op.code) {
      case INET_DIAG_BC_JMP: yes = false; break;
      case INET_DIAG_BC_S_GE: yes = r.local.port >= arg.no; break;
      case INET_DIAG_BC_S_LE: yes = r.local.port <= arg.no; break;
      case INET_DIAG_BC_D_GE: yes = r.remote.port >= arg.no; break;
      case INET_DIAG_BC_D_LE: yes = r.remote.port <= arg.no; break;
      case INET_DIAG_BC_AUTO: yes = r.autobound.value_or(true); break;
      case INET_DIAG_BC_S_COND: yes = host(p + 4, r, true); break;
      case INET_DIAG_BC_D_COND: yes = host(p + 4, r, false); break;
      case INET_DIAG_BC_DEV_COND: {
        std::uint32_t index;
        std::memcpy(&index, p + 4, 4);
        yes = index == r.ifindex;
        break;
      }
      default: std::abort();
    }
    const int step = yes ? op.yes : op.no;
    len -= step;
    p += step;
  }
  return len == 0;
}

// Records from the input's bytes: IPv4, IPv6 and IPv4-mapped, ports and bits varied.
std::vector<SocketRecord> records(const std::uint8_t* data, std::size_t size) {
  std::uint8_t seed[40] = {};
  std::memcpy(seed, data, std::min(size, sizeof seed));
  std::vector<SocketRecord> out;
  for (int kind = 0; kind < 3; ++kind) {
    SocketRecord r;
    std::uint8_t a[16] = {}, b[16] = {};
    std::memcpy(a, seed + 8, 16);
    std::memcpy(b, seed + 24, 16);
    if (kind == 0) {
      r.local.address = sockscope::IpAddress::v4_bytes(a);
      r.remote.address = sockscope::IpAddress::v4_bytes(b);
    } else {
      if (kind == 2) {
        std::memset(a, 0, 10), std::memset(a + 10, 0xff, 2);
        std::memset(b, 0, 10), std::memset(b + 10, 0xff, 2);
      }
      r.local.address = sockscope::IpAddress::v6_bytes(a);
      r.remote.address = sockscope::IpAddress::v6_bytes(b);
    }
    r.local.port = sockscope::Port(seed[0] << 8 | seed[1 + kind]);
    r.remote.port = sockscope::Port(seed[4] << 8 | seed[5 + kind]);
    r.autobound = (seed[7] >> kind) & 1;
    r.ifindex = (seed[7] >> 4) & 3;
    out.push_back(r);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sockscope::SocketFilterOptions options;
  options.interface_index = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "eth0") return 2;
    return std::nullopt;
  };
  const auto& names = sockscope::Registry::builtin();
  auto f = sockscope::SocketFilter::parse(text, names, options);
  if (!f) {
    const auto& e = f.error();
    if (e.column == 0 || e.column > size + 1 || e.message.empty()) std::abort();
    if (text.find(e.fragment) == std::string_view::npos) std::abort();
    return 0;
  }
  const std::string canonical = f->to_string();
  auto again = sockscope::SocketFilter::parse(canonical, names, options);
  if (!again || again->to_string() != canonical) std::abort();
  auto bc = f->bytecode();
  if (!bc) return 0;  // too long for the kernel's 16-bit jumps
  if (!audit(*bc)) std::abort();
  for (const SocketRecord& r : records(data, size)) {
    if (run(*bc, r) != f->matches(r, sockscope::FilterSide::kKernel)) std::abort();
  }
  return 0;
}
