// sockscope/socket_filter.hpp: ss's filter language for this host's sockets,
// run by the kernel (inet_diag bytecode) and in user space with the same result.
//
//   #include <iostream>
//   #include <memory>
//   auto f = SocketFilter::parse("state established ( dport = :443 or sport = :https )",
//                                Registry::builtin(), host_filter_options());
//   if (!f) return 1;
//   std::cout << f->to_string() << '\n';
//   // => state established dport = :443 or sport = :443
//   SocketQuery query;
//   query.filter = std::make_shared<const SocketFilter>(*f);  // every source honours it
//   auto table = SocketTable::read(query);  // netlink: the kernel runs the filter's bytecode
//   if (!table) return 1;
//   for (const SocketRecord& s : table->sockets)
//     if (!f->matches(s)) return 1;  // the same answer in user space
//   auto bad = SocketFilter::parse("sport = :70000", Registry::builtin(), {});
//   std::cout << bad.error().what() << '\n';
//   // => port out of range 0-65535 at column 10: '70000'
//
// The language is ss(8)'s: `state NAME|GROUP` and `exclude NAME|GROUP` (also
// `excl`) first, then an expression of `sport`/`dport` OP PORT, `src`/`dst`
// [=|==|eq|!=|ne|neq] HOST and `autobound`, joined by `and`/`&&`/`&`, `or`/`||`/`|`,
// `not`/`!`, parentheses, and juxtaposition (an implicit `and`). Words are split
// further at blanks, as ss does, so one word may hold a whole expression.
//
// ss's semantics, kept on purpose (each checked against ss and the kernel):
// - `and` and `or` have EQUAL precedence and group left to right (ss's grammar;
//   its manual claims otherwise): `a or b and c` is `( a or b ) and c`.
// - `state` replaces the default states, `exclude` starts from all states;
//   groups: all; connected = all but listening and closed; synchronized =
//   connected but syn-sent; bucket = syn-recv + time-wait; big = all but bucket.
//   UDP sockets are `established` (connected) or `closed`/`unconnected`.
// - OP is = == eq != ne neq < lt <= le leq > gt >= ge geq; `>` is "not <=", `<` is
//   "not >=". PORT is `:443`, `443`, `:https` (Registry::find on each transport
//   asked for; two different ports is an error, as in ss) or `*` (any).
// - HOST: `1.2.3.4`, `10.0.0.0/8`, `1.2.3.4:80`, `10.0.0.0/8:80`, `[2001:db8::1]:443`,
//   `[fe80::1%eth0]:22` (the zone matches the socket's bound interface),
//   `2001:db8::/32`, `*`, `*:80`, optionally prefixed `inet:`/`inet6:` (as in ss,
//   that restricts the whole dump to that family; the last prefix wins).
// - ss runs the filter twice and shows a socket only when both say yes: the
//   kernel's bytecode (FilterSide::kKernel) and its own user-space copy
//   (kUserSpace). matches() does the same. They differ in two places:
//   * `autobound`: the kernel tests "the kernel chose the local port"
//     (!SOCK_BINDPORT_LOCK; always true for TIME_WAIT, SYN_RECV and accepted
//     sockets), user space tests "the local port lies in ip_local_port_range".
//     So `autobound` needs both and `not autobound` needs neither: a socket bound
//     by hand to a port in the ephemeral range is in neither set.
//   * addresses: the kernel requires the socket's family (an IPv4 prefix also
//     matches an IPv4-mapped IPv6 socket), ss's user space compares the leading
//     bits of the address bytes whatever the family, and a /0 prefix matches
//     everything. So `not src 0.0.0.0/0` and `not src ::/1` show nothing at all.
// - Differences from ss, all of them errors where ss would guess: numbers are
//   strict decimal (ss reads `:0x50` as 80 and `0443` as octal), IPv4 addresses
//   are dotted quads (ss reads `127.1` as 127.1.0.0), host names are not
//   resolved. Extensions ss lacks: `(` and `)` may be glued to a word
//   (`(dport`, `:443)`), an IPv6 address may go without brackets when that is
//   unambiguous (`src ::1`), `src`/`dst` take `!=`, zones.
// - Not supported (an error naming the word): dev, fwmark, cgroup, and the
//   unix:, link:, netlink:, vsock: families.
//
// Error columns count in the words joined by single blanks, from 1.
// Thread-safety: a SocketFilter is immutable after parse(); share it freely.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/error.hpp"
#include "sockscope/port.hpp"
#include "sockscope/registry.hpp"
#include "sockscope/socket_table.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

// Which of ss's two runs of a filter (see above).
enum class FilterSide : std::uint8_t { kKernel, kUserSpace };

// What parsing needs from the host. host_filter_options() fills it from this machine.
struct SocketFilterOptions {
  // The transports being dumped: service names are looked up on each (ss: -t, -u).
  std::vector<Transport> transports = {Transport::kTcp, Transport::kUdp};
  // `autobound`'s user-space test (ss reads /proc/sys/net/ipv4/ip_local_port_range).
  PortRange ephemeral{32768, 60999};
  // Interface name -> index for zones ("eth0"); null: numeric zones only.
  std::function<std::optional<std::uint32_t>(std::string_view)> interface_index;
};

// This host's ephemeral range and interface names (if_nametoindex).
SocketFilterOptions host_filter_options(std::vector<Transport> transports = {Transport::kTcp,
                                                                             Transport::kUdp});

// Which port of a socket a port list is about.
enum class PortSide : std::uint8_t { kLocal, kRemote, kEither };

class SocketFilter {
 public:
  // Everything: no states given, an empty expression.
  SocketFilter();

  // Words after the options, as a shell splits them.
  static std::expected<SocketFilter, Error> parse(std::span<const std::string> words,
                                                  const Registry& names,
                                                  const SocketFilterOptions& options);
  // The same with host_filter_options().
  static std::expected<SocketFilter, Error> parse(std::span<const std::string> words,
                                                  const Registry& names);
  // One text (split at blanks).
  static std::expected<SocketFilter, Error> parse(std::string_view text, const Registry& names,
                                                  const SocketFilterOptions& options);

  // A list of ports for options like --port: "7001,8443,:https,6000-6063" (comma
  // or blank separated; a range is inclusive). Sockets whose `side` port is one.
  static std::expected<SocketFilter, Error> ports(std::string_view list, PortSide side,
                                                  const Registry& names,
                                                  const SocketFilterOptions& options);
  // A list of HOSTs (as after `src`) for --local/--remote; kEither: local or remote.
  static std::expected<SocketFilter, Error> hosts(std::string_view list, PortSide side,
                                                  const Registry& names,
                                                  const SocketFilterOptions& options);
  // Sockets both filters accept (states intersected, expressions joined by `and`;
  // `a`'s ephemeral range is kept).
  static SocketFilter all_of(const SocketFilter& a, const SocketFilter& b);

  // The states asked for (kAllStates when no state/exclude words were given).
  StateMask states() const;
  bool states_given() const;
  // Families the dump is restricted to by inet:/inet6: prefixes (both by default).
  bool ipv4() const;
  bool ipv6() const;

  // ss's answer: the state mask and families, then both sides of the expression.
  bool matches(const SocketRecord& r) const;
  // One side of the expression alone (no states, no families).
  bool matches(const SocketRecord& r, FilterSide side) const;
  // Whether the user-space side can disagree with the kernel's (autobound, addresses):
  // a source whose kernel ran bytecode() still has to check kUserSpace.
  bool needs_user_space_check() const;

  // The expression as INET_DIAG_REQ_BYTECODE (struct inet_diag_bc_op units):
  // accept by landing exactly at the end, reject 4 bytes past it. Empty when
  // there is no expression; nullopt when it does not fit the kernel's 16-bit
  // jumps (longer than `max_bytes`): then apply matches() in user space.
  std::optional<std::vector<std::uint8_t>> bytecode(std::size_t max_bytes = 60000) const;

  // Canonical text, parsed back to the same filter: "state established dport = :443 or
  // sport = :443", "( sport = :80 or sport = :443 ) and dport > :1024".
  std::string to_string() const;

 private:
  struct Impl;  // the parsed tree (src/host/socket_filter_ast.hpp)
  explicit SocketFilter(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace sockscope
