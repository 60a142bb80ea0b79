// Internal: the Community ID written into a caller's buffer, with the SHA-1
// chosen by the caller, so benchmarks and tests can compare the portable and the
// accelerated block functions on the whole computation. The public
// community_id() (sockscope/community_id.hpp) is this with detail::sha1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/sha1.hpp"
#include "sockscope/ip_address.hpp"

namespace sockscope::detail {

// "1:" and the base64 of a SHA-1 digest.
inline constexpr std::size_t kCommunityIdSize = 2 + base64_size(20);

// Writes kCommunityIdSize characters (no terminator) to `out`; arguments as for
// the low-level community_id().
void community_id_to(char* out, const IpAddress& src, const IpAddress& dst, std::uint8_t protocol,
                     std::uint16_t src_port, std::uint16_t dst_port, bool has_ports,
                     std::uint16_t seed, Sha1Function hash = &sha1);

}  // namespace sockscope::detail
