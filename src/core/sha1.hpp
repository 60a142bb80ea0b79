// Internal SHA-1 (FIPS 180-4) and base64 (RFC 4648), just enough for the
// Community ID flow hash; the core depends on nothing beyond the standard library.
//
// Two implementations: portable C++, and on x86-64 the SHA extensions (sha1rnds4
// & co., "sha_ni" in /proc/cpuinfo), chosen once per process by what the CPU
// supports. sha1() uses the best one; the two others name one implementation
// each, so tests and benchmarks can compare them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sockscope::detail {

using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha1Function = Sha1Digest (*)(const std::uint8_t* data, std::size_t size);

Sha1Digest sha1(const std::uint8_t* data, std::size_t size);
Sha1Digest sha1_portable(const std::uint8_t* data, std::size_t size);
// std::nullopt when the CPU (or the build's architecture) has no SHA extensions.
std::optional<Sha1Digest> sha1_accelerated(const std::uint8_t* data, std::size_t size);
bool sha1_accelerated_available();

// Padded base64 of `size` bytes: base64_size(size) characters written to `out`,
// no terminator. Returns the end of what was written.
constexpr std::size_t base64_size(std::size_t size) { return (size + 2) / 3 * 4; }
char* base64_to(const std::uint8_t* data, std::size_t size, char* out);

}  // namespace sockscope::detail
