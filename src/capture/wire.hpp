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

}  // namespace sockscope::capture_detail
