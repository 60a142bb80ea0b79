// The link types (LINKTYPE_* of pcap and pcapng) and ethertypes the decoders know,
// named once, and the VLAN tag walk every Ethernet-like header shares (Ethernet, Linux
// cooked SLL and SLL2, the Ethernet inside a tunnel). Internal to the capture layer;
// standard library only (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>

#include "capture/wire.hpp"

namespace sockscope::capture_detail {

// LINKTYPE_* values, as the capture file writes them.
inline constexpr std::uint32_t kLinkNull = 0;         // BSD loopback: host-order address family
inline constexpr std::uint32_t kLinkEthernet = 1;     // Ethernet (DLT_EN10MB)
inline constexpr std::uint32_t kLinkRawBsd = 12;      // raw IP as DLT_RAW on most BSDs wrote it
inline constexpr std::uint32_t kLinkRawOpenBsd = 14;  // raw IP as DLT_RAW on OpenBSD wrote it
inline constexpr std::uint32_t kLinkRaw = 101;        // LINKTYPE_RAW: IPv4 or IPv6
inline constexpr std::uint32_t kLinkLoop = 108;       // OpenBSD loop: network-order family
inline constexpr std::uint32_t kLinkLinuxSll = 113;   // Linux cooked capture v1
inline constexpr std::uint32_t kLinkIpv4 = 228;       // raw IPv4
inline constexpr std::uint32_t kLinkIpv6 = 229;       // raw IPv6
inline constexpr std::uint32_t kLinkLinuxSll2 = 276;  // Linux cooked capture v2

// Ethertypes (and the GRE/Geneve protocol types, which are ethertypes too).
inline constexpr std::uint16_t kEtherIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherVlan = 0x8100;       // 802.1Q tag
inline constexpr std::uint16_t kEtherQinQ = 0x88a8;       // 802.1ad service tag
inline constexpr std::uint16_t kEtherQinQOld = 0x9100;    // pre-802.1ad QinQ (Ethernet only)
inline constexpr std::uint16_t kEtherMpls = 0x8847;       // MPLS unicast
inline constexpr std::uint16_t kEtherMplsMulti = 0x8848;  // MPLS multicast
inline constexpr std::uint16_t kEtherPppoe = 0x8864;      // PPPoE session stage
inline constexpr std::uint16_t kEtherNsh = 0x894f;        // network service header
inline constexpr std::uint16_t kEtherCiscoMeta = 0x8909;  // Cisco metadata (SGT)
inline constexpr std::uint16_t kEtherBridged = 0x6558;    // transparent Ethernet bridging
inline constexpr std::uint16_t kEtherErspan = 0x88be;     // ERSPAN types I and II
inline constexpr std::uint16_t kEtherErspan3 = 0x22eb;    // ERSPAN type III
inline constexpr std::uint16_t kEtherPpp = 0x880b;        // PPP (PPTP's enhanced GRE)
inline constexpr std::uint16_t kEtherWccp = 0x883e;       // WCCP redirect

// VLAN tags a header may stack before its payload; more are left undecoded.
inline constexpr int kMaxVlanTags = 4;

// Walks the VLAN tags (802.1Q, 802.1ad and, with `qinq_old`, 0x9100) that start at
// p + off when `ethertype` names one: on return `off` is past them, `ethertype` is the
// type after them and `vlan` holds the last two ids (outer << 12 | inner). False when
// a tag is cut short (cap bytes captured).
inline bool walk_vlan_tags(const std::uint8_t* p, std::size_t cap, std::size_t& off,
                           std::uint16_t& ethertype, std::uint32_t& vlan, bool qinq_old) {
  for (int tags = 0; tags < kMaxVlanTags && (ethertype == kEtherVlan || ethertype == kEtherQinQ ||
                                             (qinq_old && ethertype == kEtherQinQOld));
       ++tags) {
    if (cap < off + 4) return false;
    vlan = ((vlan << 12) | (be16(p + off) & 0x0fffu)) & 0xffffffu;
    ethertype = be16(p + off + 2);
    off += 4;
  }
  return true;
}

}  // namespace sockscope::capture_detail
