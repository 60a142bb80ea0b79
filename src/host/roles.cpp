// The role of a socket's local side from kernel facts first (listening,
// accepted on a listening endpoint, auto-bound), the port-group rule last.
#include "host/roles.hpp"

#include <algorithm>
#include <unordered_set>

#include "sockscope/socket_filter.hpp"

namespace sockscope {
namespace {

constexpr std::uint8_t kZero16[16] = {};

Endpoint wildcard_of(const Endpoint& local) {
  IpAddress any = local.address.is_v4() ? IpAddress() : IpAddress::v6_bytes(kZero16);
  return {any, local.port};
}

}  // namespace

namespace host_detail {

bool is_listener(const SocketRecord& r) {
  if (r.state == SocketState::kListen) return true;
  return r.transport != Transport::kTcp && r.state == SocketState::kClose && r.unconnected() &&
         r.autobound != true;
}

std::size_t ListenerIndex::KeyHash::operator()(const Key& k) const {
  std::uint64_t h =
      k.netns * 0x9E3779B97F4A7C15ull ^ (std::uint64_t(k.transport) << 56) ^ k.local.port;
  for (std::uint8_t b : k.local.address.bytes()) h = (h ^ b) * 0x100000001B3ull;
  return std::size_t(h ^ (h >> 29));
}

bool ListenerIndex::covers(const SocketRecord& r) const {
  if (keys_.empty()) return false;
  Key exact{r.netns, r.transport, {r.local.address.without_zone(), r.local.port}};
  if (keys_.count(exact)) return true;
  return keys_.count({r.netns, r.transport, wildcard_of(r.local)}) != 0;
}

bool ListenerIndex::covers_peer(const SocketRecord& r) const {
  if (keys_.empty()) return false;
  const Port port = r.remote.port;
  auto listens = [&](const IpAddress& address) {
    return keys_.count({r.netns, r.transport, {address, port}}) != 0;
  };
  const IpAddress exact = r.remote.address.without_zone(), a = exact.unmapped();
  if (listens(exact) || listens(a)) return true;
  if (!a.is_loopback() && !local_addresses_.count({r.netns, a})) return false;
  // A wildcard listener: an IPv4 peer (mapped or not) may also have been accepted
  // by a dual-stack [::] listener.
  const IpAddress any6 = IpAddress::v6_bytes(kZero16);
  return a.is_v4() ? listens(IpAddress()) || listens(any6) : listens(any6);
}

RoleOf classify(const SocketRecord& r, const ListenerIndex& listeners,
                std::optional<PortRange> host_ephemeral) {
  if (is_listener(r)) return {LocalRole::kListener, Evidence::kListener};
  if (listeners.covers(r)) return {LocalRole::kServer, Evidence::kAccepted};
  if (r.autobound == true) return {LocalRole::kClient, Evidence::kAutoBound};
  if (r.unconnected()) return {LocalRole::kUnknown, Evidence::kLowerPortGuess};
  // Both ends on this host: the other end's listener decides this end too (a
  // client bound by hand to port 80 is no server of 80 when its peer is accepted).
  if (listeners.covers_peer(r)) return {LocalRole::kClient, Evidence::kPeerListener};
  // Both ports inside the host's ephemeral range give a guess: the core rule
  // ranks the host range with the dynamic group.
  const Role rule = SocketPair{r.transport, r.local, r.remote}.role(host_ephemeral);
  return {rule.server == Side::kFirst ? LocalRole::kServer : LocalRole::kClient, rule.evidence};
}

}  // namespace host_detail

using host_detail::classify;
using host_detail::is_listener;
using host_detail::ListenerIndex;
using host_detail::RoleOf;

std::string_view to_string(LocalRole role) {
  switch (role) {
    case LocalRole::kListener: return "listener";
    case LocalRole::kServer: return "server";
    case LocalRole::kClient: return "client";
    case LocalRole::kUnknown: return "unknown";
  }
  return "unknown";
}

Port HostSocket::server_port() const {
  if (is_server_side()) return record.local.port;
  if (role == LocalRole::kClient) return record.remote.port;
  return 0;
}

std::expected<DumpStats, Error> dump_with_roles(
    SocketSource& source, const SocketQuery& query, std::optional<PortRange> host_ephemeral,
    const std::function<void(const HostSocket&)>& sink) {
  constexpr StateMask kWaiting = state_bit(SocketState::kListen) | state_bit(SocketState::kClose);
  // Pass 1: everything that waits for peers, whatever the query's states and
  // filter, because accepted sockets are recognised by their listener. TCP asks
  // for LISTEN only: any other state bit makes the kernel walk the whole
  // established hash too.
  std::vector<SocketRecord> waiting;
  DumpStats first_stats;
  for (Transport t : query.transports) {
    SocketQuery first = query;
    first.filter.reset();
    first.transports = {t};
    first.states = t == Transport::kTcp ? state_bit(SocketState::kListen) : kWaiting;
    auto stats = source.dump(first, [&](const SocketRecord& r) { waiting.push_back(r); });
    if (!stats) return std::unexpected(stats.error());
    first_stats.messages += stats->messages;
    for (auto& e : stats->skipped) first_stats.skipped.push_back(std::move(e));
  }
  auto* stats = &first_stats;
  ListenerIndex listeners;
  for (const auto& r : waiting) {
    if (is_listener(r)) {
      listeners.add(r);
    } else {
      listeners.add_local_address(r);
    }
  }
  DumpStats total;
  total.skipped = std::move(stats->skipped);
  total.messages = stats->messages;
  for (const auto& r : waiting) {
    if (!(query.states & state_bit(r.state))) continue;
    if (query.filter && !query.filter->matches(r)) continue;
    RoleOf role = classify(r, listeners, host_ephemeral);
    ++total.sockets;
    sink(HostSocket{r, role.role, role.evidence});
  }
  // Pass 2: the rest, streamed.
  SocketQuery rest = query;
  rest.states = query.states & ~kWaiting;
  if (rest.states == 0) return total;
  auto more = source.dump(rest, [&](const SocketRecord& r) {
    RoleOf role = classify(r, listeners, host_ephemeral);
    sink(HostSocket{r, role.role, role.evidence});
  });
  if (!more) return std::unexpected(more.error());
  total.sockets += more->sockets;
  total.messages += more->messages;
  for (auto& e : more->skipped) {
    bool dup = std::any_of(total.skipped.begin(), total.skipped.end(),
                           [&](const Error& x) { return x.message == e.message; });
    if (!dup) total.skipped.push_back(std::move(e));
  }
  return total;
}

}  // namespace sockscope
