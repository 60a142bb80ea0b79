// sockscope/socket_pair.hpp: two sockets plus a transport name one connection.
//
//   #include <iostream>
//   auto pair = SocketPair::parse("192.168.1.5:1099, 192.168.1.7:80");
//   Role role = pair->role();  // the port-group rule, no host knowledge
//   std::cout << pair->endpoint(role.client).to_string() << '\n';  // => 192.168.1.5:1099
//   std::cout << pair->endpoint(role.server).to_string() << '\n';  // => 192.168.1.7:80
//   std::cout << to_string(role.evidence) << '\n';                  // => well-known-port
//   std::cout << explain(*pair, role) << '\n';
//   // => port 80 is well-known, port 1099 is registered: 80 is the server's
//   auto back = SocketPair::parse("192.168.1.7:80 -> 192.168.1.5:1099");
//   std::cout << (pair->canonical() == back->canonical()) << ' ' << (pair->hash() == back->hash())
//             << '\n';  // direction-free
//   // => 1 1
//
// Accepted text: "[tcp|udp|sctp|dccp|icmp] A, B", "A -> B", "A <-> B".
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "sockscope/endpoint.hpp"
#include "sockscope/error.hpp"
#include "sockscope/port.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

enum class Side : std::uint8_t { kFirst, kSecond };
constexpr Side other(Side s) { return s == Side::kFirst ? Side::kSecond : Side::kFirst; }

// Why one side is taken for the server, strongest first.
enum class Evidence : std::uint8_t {
  kHandshake,              // the client sent the first SYN (captures)
  kListener,               // the local socket is listening (host)
  kAccepted,               // same local endpoint as a listener (host)
  kAutoBound,              // the kernel chose the local port: a client (host)
  kFirstPacket,            // sender of the first packet, port groups agree (captures)
  kLikelyServerPort,       // a lone reply from a likely server port, as Zeek flips it (captures)
  kWellKnownPort,          // a well-known port against any other
  kRegisteredVsEphemeral,  // a registered port against a dynamic/ephemeral one
  kLowerPortGuess,         // nothing better: the lower port, a guess
};

// Stable token for machine output: "handshake", "listener", "accepted",
// "autobound", "first-packet", "likely-server-port", "well-known-port",
// "registered-vs-ephemeral", "lower-port-guess".
std::string_view to_string(Evidence evidence);
constexpr bool is_guess(Evidence e) { return e == Evidence::kLowerPortGuess; }

struct Role {
  Side client = Side::kFirst;
  Side server = Side::kSecond;
  Evidence evidence = Evidence::kLowerPortGuess;
};

struct SocketPair {
  Transport transport = Transport::kTcp;
  Endpoint first;   // as written or as seen (source, local)
  Endpoint second;  // (destination, remote)

  static std::expected<SocketPair, Error> parse(std::string_view text);

  const Endpoint& endpoint(Side side) const { return side == Side::kFirst ? first : second; }
  SocketPair reversed() const { return {transport, second, first}; }
  // The same pair with the lower endpoint first: equal for both directions.
  SocketPair canonical() const { return second < first ? reversed() : *this; }
  bool is_canonical() const { return !(second < first); }
  // Direction-free: equal for a pair and its reverse.
  std::uint64_t hash() const;

  // Client and server by the port-group rule. `host_ephemeral` (the host's
  // ip_local_port_range) widens what counts as an ephemeral port.
  Role role(std::optional<PortRange> host_ephemeral = std::nullopt) const;

  // "tcp 192.168.1.5:1099, 192.168.1.7:80"
  std::string to_string() const;

  friend bool operator==(const SocketPair&, const SocketPair&) = default;
};

// Explains a role in one human line, e.g.
// "port 80 is well-known, port 1099 is registered: 80 is the server".
std::string explain(const SocketPair& pair, const Role& role,
                    std::optional<PortRange> host_ephemeral = std::nullopt);

}  // namespace sockscope
