// sockscope/port.hpp: ports, IANA port groups, port ranges, ephemeral ranges.
//
//   #include <iostream>
//   std::cout << to_string(group_of(80)) << ' ' << to_string(group_of(50000)) << '\n';
//   // => well-known dynamic
//   auto x11 = PortRange::parse("6000-6063");  // x11's registered range
//   std::cout << x11->contains(6010) << ' ' << x11->size() << '\n';  // => 1 64
//   auto host = EphemeralRange::read_host();  // e.g. 32768-60999 on Linux
//   if (host) std::cout << host->range.to_string() << " from " << host->source << '\n';
//
// IANA's groups (RFC 6335): well-known 0-1023, registered 1024-49151,
// dynamic/private 49152-65535. The range the OS draws client ports from is a
// separate thing (Linux's default is 32768-60999) and is modelled apart.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "sockscope/error.hpp"

namespace sockscope {

using Port = std::uint16_t;

enum class PortGroup : std::uint8_t { kWellKnown, kRegistered, kDynamic };

constexpr PortGroup group_of(Port port) {
  if (port <= 1023) return PortGroup::kWellKnown;
  if (port <= 49151) return PortGroup::kRegistered;
  return PortGroup::kDynamic;
}

// "well-known", "registered", "dynamic": the names used in all output.
std::string_view to_string(PortGroup group);
// Accepts the names above and "wellknown", "system", "user", "private", "ephemeral".
std::expected<PortGroup, Error> parse_port_group(std::string_view text);

// An inclusive range of ports.
struct PortRange {
  Port first = 0;
  Port last = 0;

  static constexpr PortRange of_group(PortGroup group) {
    switch (group) {
      case PortGroup::kWellKnown: return {0, 1023};
      case PortGroup::kRegistered: return {1024, 49151};
      case PortGroup::kDynamic: return {49152, 65535};
    }
    return {};
  }

  constexpr bool contains(Port port) const { return port >= first && port <= last; }
  constexpr std::uint32_t size() const { return std::uint32_t(last) - first + 1; }

  // "443" or "6000-6063" (first <= last). column_offset shifts error columns.
  static std::expected<PortRange, Error> parse(std::string_view text,
                                               std::size_t column_offset = 0);
  std::string to_string() const;  // "443" or "6000-6063"

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// Strict port number: decimal 0-65535, no sign, no leading zero.
std::expected<Port, Error> parse_port(std::string_view text, std::size_t column_offset = 0);

// The range an operating system assigns ephemeral (client) ports from.
struct EphemeralRange {
  PortRange range;
  std::string source;  // where it came from: a /proc path, "IANA (RFC 6335)", ...

  static EphemeralRange iana();           // 49152-65535
  static EphemeralRange windows();        // 49152-65535 since Vista/Server 2008
  static EphemeralRange linux_default();  // 32768-60999 since Linux 4.2

  // Reads the Linux range in force ("32768\t60999\n").
  static std::expected<EphemeralRange, Error> read_host(
      std::string_view path = "/proc/sys/net/ipv4/ip_local_port_range");
  // Parses the sysctl's text: two decimal ports separated by white space.
  static std::expected<PortRange, Error> parse_sysctl(std::string_view text);
};

}  // namespace sockscope
