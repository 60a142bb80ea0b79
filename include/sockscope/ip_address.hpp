// sockscope/ip_address.hpp: IPv4 and IPv6 addresses, strict parsing, RFC 5952 text.
//
//   #include <iostream>
//   auto a = IpAddress::parse("2001:DB8:0:0:0:0:0:1");
//   std::cout << a->to_string() << '\n';  // => 2001:db8::1
//   std::cout << IpAddress::parse("1.2.3.04").error().what() << '\n';
//   // => leading zero in IPv4 octet at column 7: '04'
//   std::cout << IpAddress::parse("fe80::1%eth0")->zone() << '\n';  // => eth0
//   auto net = IpPrefix::parse("10.0.0.0/8");
//   std::cout << net->contains(*IpAddress::parse("10.1.2.3")) << '\n';  // => 1
//
// An IpAddress is a small value (24 bytes): 16 address bytes, the family and a
// zone id. Zone names are interned process-wide so addresses stay trivially
// copyable; interning is thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "sockscope/error.hpp"

namespace sockscope {

enum class Family : std::uint8_t { kV4 = 4, kV6 = 6 };

class IpAddress {
 public:
  // Longest text form: a full IPv6 address (45) + '%' + a zone name (<= 64).
  static constexpr std::size_t kMaxTextSize = 112;
  static constexpr std::size_t kMaxZoneSize = 64;

  constexpr IpAddress() = default;  // 0.0.0.0

  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v4_bytes(const std::uint8_t* network_order);  // 4 bytes
  // 16 bytes; a zone id is another address's zone_id() (0 = none).
  static IpAddress v6_bytes(const std::uint8_t* network_order, std::uint32_t zone_id = 0);

  // Strict text parsing: dotted quad without leading zeros, or RFC 4291 IPv6
  // (optionally with an embedded dotted quad and a %zone). Errors carry the
  // 1-based column, shifted by column_offset when parsing part of a larger text.
  static std::expected<IpAddress, Error> parse(std::string_view text,
                                               std::size_t column_offset = 0);
  // Dotted quad only.
  static std::expected<IpAddress, Error> parse_v4(std::string_view text,
                                                  std::size_t column_offset = 0);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }

  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  std::span<const std::uint8_t> bytes() const {
    return {bytes_.data(), is_v4() ? std::size_t{4} : std::size_t{16}};
  }
  // IPv4 value in host order. REQUIRES: is_v4().
  std::uint32_t v4_value() const;

  std::uint32_t zone_id() const { return zone_; }
  std::string_view zone() const;  // "" when none
  IpAddress without_zone() const;
  // The same IPv6 address with zone `name` (an interface name or number, as after
  // '%'), e.g. a link-local socket's bound interface. An IPv4 address is returned
  // unchanged (zones are IPv6's).
  IpAddress with_zone(std::string_view name) const;

  bool is_unspecified() const;  // 0.0.0.0 or ::
  bool is_loopback() const;     // 127.0.0.0/8 or ::1
  bool is_v4_mapped() const;    // ::ffff:0:0/96
  // ::ffff:a.b.c.d becomes a.b.c.d; anything else is returned unchanged.
  IpAddress unmapped() const;

  // Canonical text (RFC 5952 for IPv6) into out; returns the length.
  // REQUIRES: out has kMaxTextSize bytes.
  std::size_t format(char* out) const;
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b);

 private:
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in bytes_[0..3]
  Family family_ = Family::kV4;
  std::uint32_t zone_ = 0;
};

// An address prefix in CIDR notation ("192.168.0.0/16", "2001:db8::/32");
// a bare address is a /32 or /128.
class IpPrefix {
 public:
  static std::expected<IpPrefix, Error> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
  const IpAddress& address() const { return address_; }
  unsigned length() const { return length_; }
  std::string to_string() const;

 private:
  IpAddress address_;
  unsigned length_ = 0;
};

}  // namespace sockscope
