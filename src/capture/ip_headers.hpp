// IP header helpers of the packet decoder: IPv6 extension header walks (with the
// routing header's final destination), the packet an ICMP error quotes, and transport
// checksums. Internal to the capture layer; standard library only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

bool is_icmp_error(bool v6, std::uint8_t type);
bool icmp_has_id(bool v6, std::uint8_t type);

// Walks IPv6 extension headers from `off`. On return `nh` is the upper-layer
// protocol and `off` its offset. Fragment headers set the fragment fields; a routing
// header with segments left replaces `dst` (16 bytes, when given) by the final one.
// Returns false with `why` when a header is cut short or runs past the payload.
bool walk_ipv6_headers(const std::uint8_t* p, std::size_t cap, std::size_t limit, std::uint8_t& nh,
                       std::size_t& off, std::uint32_t* frag_offset, bool* more_fragments,
                       std::uint32_t* frag_id, std::uint8_t* dst, DropReason& why);

// The quoted packet inside an ICMP error: its pair into out.quoted_*, when it has ports.
bool decode_quoted(const std::uint8_t* p, std::size_t cap, bool v6, PacketInfo& out);

// True unless the transport checksum of a segment captured whole is wrong.
bool transport_checksum_ok(const std::uint8_t* p, std::size_t cap, std::size_t len, bool v6,
                           const PacketInfo& out);

}  // namespace sockscope::capture_detail
