// sockscope/endpoint.hpp: a socket, i.e. an IP address plus a port.
//
//   #include <iostream>
//   auto ep = Endpoint::parse("[2001:db8::1]:443");
//   std::cout << ep->to_string() << ' ' << to_string(ep->group()) << '\n';
//   // => [2001:db8::1]:443 well-known
//   std::cout << Endpoint::parse("192.168.1.5:70000").error().what() << '\n';
//   // => port out of range 0-65535 at column 13: '70000'
//   std::cout << Endpoint::parse("::1:443").error().what() << '\n';
//   // => IPv6 address with a port needs brackets, e.g. [::1]:443 at column 1: '::1:443'
#pragma once

#include <compare>
#include <expected>
#include <string>
#include <string_view>

#include "sockscope/error.hpp"
#include "sockscope/ip_address.hpp"
#include "sockscope/port.hpp"

namespace sockscope {

struct Endpoint {
  IpAddress address;
  Port port = 0;

  // Longest text: "[" + address + "]:" + "65535".
  static constexpr std::size_t kMaxTextSize = IpAddress::kMaxTextSize + 8;

  // "1.2.3.4:80", "[2001:db8::1]:443", "[fe80::1%eth0]:22". Strict: IPv6 needs
  // brackets, the port is required, nothing may follow it.
  static std::expected<Endpoint, Error> parse(std::string_view text, std::size_t column_offset = 0);

  PortGroup group() const { return group_of(port); }

  // Canonical text into out; returns the length. REQUIRES: kMaxTextSize bytes.
  std::size_t format(char* out) const;
  std::string to_string() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend std::strong_ordering operator<=>(const Endpoint&, const Endpoint&) = default;
};

}  // namespace sockscope
