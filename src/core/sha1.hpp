// Internal SHA-1 (FIPS 180-4) and base64 (RFC 4648), just enough for the
// Community ID flow hash; the core depends on nothing beyond the standard library.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sockscope::detail {

std::array<std::uint8_t, 20> sha1(const std::uint8_t* data, std::size_t size);
std::string base64(const std::uint8_t* data, std::size_t size);

}  // namespace sockscope::detail
