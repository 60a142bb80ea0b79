// Unaligned big- and little-endian loads for decoding wire formats.
#pragma once

#include <cstdint>
#include <cstring>

namespace sockscope::capture_detail {

inline std::uint16_t be16(const std::uint8_t* p) {
  return std::uint16_t((std::uint16_t(p[0]) << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
// Native-order loads, swapped when the file's byte order differs from ours.
inline std::uint16_t load16(const std::uint8_t* p, bool swap) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return swap ? __builtin_bswap16(v) : v;
}
inline std::uint32_t load32(const std::uint8_t* p, bool swap) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}
inline std::uint64_t load64(const std::uint8_t* p, bool swap) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return swap ? __builtin_bswap64(v) : v;
}

// The Internet checksum's running sum (RFC 1071) of n bytes, added to `sum`; fold()
// gives the 16-bit result, 0xffff for data whose checksum field is right.
inline std::uint32_t ones_sum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  std::uint64_t s = sum;
  for (; n >= 2; p += 2, n -= 2) s += be16(p);
  if (n) s += std::uint32_t(p[0]) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return std::uint32_t(s);
}
inline std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return std::uint16_t(sum);
}

}  // namespace sockscope::capture_detail
