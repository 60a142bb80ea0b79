#include "sockscope/socket_pair.hpp"

#include <cstring>

#include "core/text.hpp"

namespace sockscope {
namespace {

using Code = Error::Code;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// 0 well-known, 1 registered, 2 ephemeral-looking: the dynamic group or the
// host's ephemeral range (Linux's 32768-60999 covers registered ports too, and
// a port there may be the kernel's choice as much as a dynamic one). A lower
// rank is more server-like; equal ranks give no evidence.
int port_rank(Port port, const std::optional<PortRange>& host_ephemeral) {
  if (group_of(port) == PortGroup::kWellKnown) return 0;
  if (group_of(port) == PortGroup::kDynamic) return 2;
  return host_ephemeral && host_ephemeral->contains(port) ? 2 : 1;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t hash_endpoint(std::uint64_t h, const Endpoint& e) {
  auto b = e.address.bytes();
  std::uint8_t buf[16] = {};
  std::memcpy(buf, b.data(), b.size());
  h = mix(h, load64(buf));
  h = mix(h, load64(buf + 8) ^ (std::uint64_t(e.port) << 48) ^ e.address.zone_id());
  return h;
}

std::string describe_port(Port port, const std::optional<PortRange>& host_ephemeral) {
  std::string s = "port " + std::to_string(port) + " is " + std::string(to_string(group_of(port)));
  if (host_ephemeral && host_ephemeral->contains(port)) {
    s += " and in this host's ephemeral range " + host_ephemeral->to_string();
  }
  return s;
}

}  // namespace

namespace {

struct IcmpTypeName {
  std::uint8_t type;
  Family family;
  IcmpKind kind;
  std::string_view name;
};
constexpr IcmpTypeName kIcmpTypes[] = {
    {0, Family::kV4, IcmpKind::kReply, "echo reply"},
    {3, Family::kV4, IcmpKind::kError, "destination unreachable"},
    {4, Family::kV4, IcmpKind::kError, "source quench"},
    {5, Family::kV4, IcmpKind::kError, "redirect"},
    {8, Family::kV4, IcmpKind::kRequest, "echo request"},
    {9, Family::kV4, IcmpKind::kReply, "router advertisement"},
    {10, Family::kV4, IcmpKind::kRequest, "router solicitation"},
    {11, Family::kV4, IcmpKind::kError, "time exceeded"},
    {12, Family::kV4, IcmpKind::kError, "parameter problem"},
    {13, Family::kV4, IcmpKind::kRequest, "timestamp request"},
    {14, Family::kV4, IcmpKind::kReply, "timestamp reply"},
    {15, Family::kV4, IcmpKind::kRequest, "information request"},
    {16, Family::kV4, IcmpKind::kReply, "information reply"},
    {17, Family::kV4, IcmpKind::kRequest, "address mask request"},
    {18, Family::kV4, IcmpKind::kReply, "address mask reply"},
    {1, Family::kV6, IcmpKind::kError, "destination unreachable"},
    {2, Family::kV6, IcmpKind::kError, "packet too big"},
    {3, Family::kV6, IcmpKind::kError, "time exceeded"},
    {4, Family::kV6, IcmpKind::kError, "parameter problem"},
    {128, Family::kV6, IcmpKind::kRequest, "echo request"},
    {129, Family::kV6, IcmpKind::kReply, "echo reply"},
    {130, Family::kV6, IcmpKind::kRequest, "multicast listener query"},
    {131, Family::kV6, IcmpKind::kReply, "multicast listener report"},
    {133, Family::kV6, IcmpKind::kRequest, "router solicitation"},
    {134, Family::kV6, IcmpKind::kReply, "router advertisement"},
    {135, Family::kV6, IcmpKind::kRequest, "neighbor solicitation"},
    {136, Family::kV6, IcmpKind::kReply, "neighbor advertisement"},
    {137, Family::kV6, IcmpKind::kError, "redirect"},
};

const IcmpTypeName* icmp_type(std::uint8_t type, Family family) {
  for (const auto& t : kIcmpTypes) {
    if (t.type == type && t.family == family) return &t;
  }
  return nullptr;
}

}  // namespace

IcmpKind icmp_kind(std::uint8_t type, Family family) {
  const IcmpTypeName* t = icmp_type(type, family);
  return t ? t->kind : IcmpKind::kOther;
}

std::string_view icmp_type_name(std::uint8_t type, Family family) {
  const IcmpTypeName* t = icmp_type(type, family);
  return t ? t->name : std::string_view();
}

std::string_view to_string(Evidence evidence) {
  switch (evidence) {
    case Evidence::kHandshake: return "handshake";
    case Evidence::kListener: return "listener";
    case Evidence::kAccepted: return "accepted";
    case Evidence::kAutoBound: return "autobound";
    case Evidence::kFirstPacket: return "first-packet";
    case Evidence::kLikelyServerPort: return "likely-server-port";
    case Evidence::kWellKnownPort: return "well-known-port";
    case Evidence::kRegisteredVsEphemeral: return "registered-vs-ephemeral";
    case Evidence::kLowerPortGuess: return "lower-port-guess";
    case Evidence::kPeerListener: return "peer-listener";
    case Evidence::kIcmpType: return "icmp-type";
  }
  return "?";
}

namespace {

// The optional transport word at text[i] ("tcp 1.2.3.4:5, ..."): sets
// pair.transport and moves `i` to the first endpoint.
std::optional<Error> take_transport(std::string_view text, std::size_t& i, SocketPair& pair) {
  const std::size_t n = text.size();
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto is_alnum = [&](char c) { return is_alpha(c) || (c >= '0' && c <= '9'); };
  if (!is_alpha(text[i])) return std::nullopt;
  std::size_t end = i;
  while (end < n && is_alnum(text[end])) ++end;
  if (end < n && text[end] == ':' && parse_transport(text.substr(i, end - i), i)) {
    return Error::at(Code::kBadSyntax,
                     "the transport is a word of its own: write it with a "
                     "blank before the endpoints ('" +
                         std::string(text.substr(i, end - i)) + " A, B')",
                     end + 1, ":");
  }
  if (end < n && is_space(text[end])) {
    auto t = parse_transport(text.substr(i, end - i), i);
    if (!t) return t.error();
    pair.transport = *t;
    i = end;
    while (i < n && is_space(text[i])) ++i;
  }
  return std::nullopt;
}

struct Separator {
  std::size_t at;  // from the first endpoint's start
  std::size_t size;
};

// What parts the endpoints starting at text[i]: "<->", "->", ",", or (ss's form)
// blanks between two endpoints.
std::expected<Separator, Error> find_separator(std::string_view text, std::size_t i) {
  const std::size_t n = text.size();
  const std::string_view rest = text.substr(i);
  for (std::string_view sep : {"<->", "->", ","}) {
    const std::size_t at = rest.find(sep);
    if (at != std::string_view::npos) return Separator{at, sep.size()};
  }
  std::size_t end = i;
  while (end < n && !is_space(text[end])) ++end;
  auto lone = Endpoint::parse(text.substr(i, end - i), i);
  if (!lone) return std::unexpected(lone.error());
  while (end < n && is_space(text[end])) ++end;
  if (end == n) {
    return std::unexpected(Error::at(
        Code::kBadSyntax, "expected a second endpoint after ',', '->' or '<->'", n + 1, ""));
  }
  if (!Endpoint::parse(text.substr(end), end)) {
    return std::unexpected(Error::at(Code::kBadSyntax,
                                     "expected ',', '->' or '<->' between the endpoints", end + 1,
                                     text::char_at(text, end)));
  }
  return Separator{end - i - 1, 1};
}

}  // namespace

std::expected<SocketPair, Error> SocketPair::parse(std::string_view text) {
  SocketPair pair;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n && is_space(text[i])) ++i;
  if (i == n) return std::unexpected(Error::at(Code::kEmpty, "empty socket pair", 0));
  if (auto bad = take_transport(text, i, pair)) return std::unexpected(*bad);
  const auto separator = find_separator(text, i);
  if (!separator) return std::unexpected(separator.error());
  const std::size_t sep = separator->at, sep_len = separator->size;
  const std::string_view rest = text.substr(i);
  // A third endpoint: say so rather than failing on the second's text.
  const std::size_t third = std::min(rest.find(',', sep + sep_len), rest.find("->", sep + sep_len));
  if (third != std::string_view::npos) {
    return std::unexpected(Error::at(Code::kTrailingGarbage,
                                     "a socket pair has two endpoints; a third follows",
                                     i + third + 1, text::char_at(text, i + third)));
  }
  auto trim_range = [&](std::size_t from, std::size_t to) {
    while (from < to && is_space(text[from])) ++from;
    while (to > from && is_space(text[to - 1])) --to;
    return std::pair{from, to};
  };
  auto [a_from, a_to] = trim_range(i, i + sep);
  auto [b_from, b_to] = trim_range(i + sep + sep_len, n);
  if (a_from == a_to) {
    return std::unexpected(Error::at(Code::kEmpty, "missing first endpoint", i + 1, ""));
  }
  if (b_from == b_to) {
    return std::unexpected(
        Error::at(Code::kEmpty, "missing second endpoint", i + sep + sep_len + 1, ""));
  }
  auto a = Endpoint::parse(text.substr(a_from, a_to - a_from), a_from);
  if (!a) return std::unexpected(a.error());
  auto b = Endpoint::parse(text.substr(b_from, b_to - b_from), b_from);
  if (!b) return std::unexpected(b.error());
  if (a->address.family() != b->address.family()) {
    return std::unexpected(Error::at(Code::kMixedFamilies,
                                     "both endpoints must be IPv4 or both IPv6", b_from + 1,
                                     text.substr(b_from, b_to - b_from)));
  }
  pair.first = *a;
  pair.second = *b;
  return pair;
}

std::uint64_t SocketPair::hash() const {
  const bool keep = is_canonical();
  const Endpoint& lo = keep ? first : second;
  const Endpoint& hi = keep ? second : first;
  std::uint64_t h = 0x51c0c5c0u ^ std::uint64_t(transport);
  h = hash_endpoint(h, lo);
  return hash_endpoint(h, hi);
}

Role SocketPair::role(std::optional<PortRange> host_ephemeral) const {
  Role role;
  if (transport == Transport::kIcmp) {
    // ICMP has no ports: the first "port" is the type of the first endpoint's
    // message (as conversations write it). Its sender is the client unless the
    // message is a reply.
    const IcmpKind kind = icmp_kind(std::uint8_t(first.port), first.address.family());
    role.server = kind == IcmpKind::kReply ? Side::kFirst : Side::kSecond;
    role.client = other(role.server);
    role.evidence = Evidence::kIcmpType;
    return role;
  }
  int r1 = port_rank(first.port, host_ephemeral);
  int r2 = port_rank(second.port, host_ephemeral);
  if ((first.port == 0) != (second.port == 0)) {
    // Port 0 is no port a server waits on: the other one is the guess.
    role.server = first.port == 0 ? Side::kSecond : Side::kFirst;
    role.client = other(role.server);
    role.evidence = Evidence::kLowerPortGuess;
    return role;
  }
  if (r1 != r2) {
    role.server = r1 < r2 ? Side::kFirst : Side::kSecond;
    role.evidence =
        std::min(r1, r2) == 0 ? Evidence::kWellKnownPort : Evidence::kRegisteredVsEphemeral;
  } else {
    role.server = first.port < second.port ? Side::kFirst : Side::kSecond;
    role.evidence = Evidence::kLowerPortGuess;
  }
  role.client = other(role.server);
  return role;
}

std::string SocketPair::to_string() const {
  return std::string(sockscope::to_string(transport)) + " " + first.to_string() + ", " +
         second.to_string();
}

std::string explain(const SocketPair& pair, const Role& role,
                    std::optional<PortRange> host_ephemeral) {
  const Endpoint& server = pair.endpoint(role.server);
  const Endpoint& client = pair.endpoint(role.client);
  const std::string s = std::to_string(server.port);
  switch (role.evidence) {
    case Evidence::kHandshake: return "the client sent the first SYN of the handshake";
    case Evidence::kListener: return "the local socket is listening";
    case Evidence::kAccepted: return "the local endpoint is also a listener's: accepted connection";
    case Evidence::kAutoBound: return "the kernel chose the local port (auto-bound): a client";
    case Evidence::kPeerListener:
      return "the peer's endpoint is a listener's on this host: the local side is its client";
    case Evidence::kFirstPacket:
      return "the client sent the first packet and the port groups agree";
    case Evidence::kLikelyServerPort:
      return "the first packet came from port " + s +
             ", one of Zeek's likely server ports: a reply, " + s + " is the server's";
    case Evidence::kWellKnownPort:
    case Evidence::kRegisteredVsEphemeral:
      return describe_port(server.port, host_ephemeral) + ", " +
             describe_port(client.port, host_ephemeral) + ": " + s + " is the server's";
    case Evidence::kIcmpType: {
      const auto type = std::uint8_t(pair.first.port);
      const std::string_view name = icmp_type_name(type, pair.first.address.family());
      const std::string what = "ICMP type " + std::to_string(type) +
                               (name.empty() ? "" : " (" + std::string(name) + ")");
      switch (icmp_kind(type, pair.first.address.family())) {
        case IcmpKind::kRequest: return what + " is a request: its sender is the client";
        case IcmpKind::kReply: return what + " is a reply: its sender is the server";
        default: return what + " is neither request nor reply: its sender is taken as the client";
      }
    }
    case Evidence::kLowerPortGuess:
      if (client.port == 0) {
        return "port 0 is no port a server waits on: guessing " + s + " is the server's";
      }
      return "no port-group evidence (" + describe_port(server.port, host_ephemeral) + ", " +
             describe_port(client.port, host_ephemeral) + "): guessing the lower port " + s +
             " is the server's";
  }
  return {};
}

}  // namespace sockscope
