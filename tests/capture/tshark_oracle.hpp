// tshark as the independent decoder captures are checked against: its conversation
// tables and its per-packet fields, parsed into what a test compares with sockscope's
// conversations.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sockscope/capture.hpp"

namespace sockscope::testing {

// True when tshark runs here (tests skip otherwise).
bool have_tshark();

// tshark writes endpoints as "address:port" without brackets, for IPv6 too.
std::string tshark_endpoint(const Endpoint& ep);

// A direction-free conversation key as tshark prints endpoints ("addr:port", IPv6
// without brackets): a < b.
struct ConvKey {
  std::string transport, a, b;
  auto operator<=>(const ConvKey&) const = default;
};
ConvKey conv_key(std::string transport, const std::string& x, const std::string& y);
ConvKey conv_key(const Conversation& c);

struct ConvSides {
  std::uint64_t packets_from_a = 0, packets_from_b = 0;
};

// tshark -z conv,tcp -z conv,udp: frames per direction per conversation (every UDP and
// TCP layer of a packet, tunnels' outer ones included). `extra` goes before -r's file.
std::map<ConvKey, ConvSides> tshark_conversations(const std::string& path,
                                                  const std::vector<std::string>& extra = {});

// Per packet, with tshark's Community ID of its innermost flow: packets and innermost
// IP bytes per Community ID over the packets that have a TCP, UDP or ICMP layer, and
// the keys of the UDP layers that carried other conversation layers (tunnels' outer
// conversations, whose Community IDs tshark does not print).
struct TsharkFlows {
  std::uint64_t frames = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_community_id;
  std::set<ConvKey> outer;
};
TsharkFlows tshark_flows(const std::string& path, const std::vector<std::string>& extra = {});

// Checks `conversations` against both: every TCP/UDP conversation's packets per
// direction against the tables, and every conversation that is not a tunnel's outer one
// against the per-Community-ID packets and IP bytes; each tshark flow must be one of
// ours. Reports through gtest; returns how many conversations were compared.
std::size_t expect_agrees_with_tshark(const std::vector<Conversation>& conversations,
                                      const std::string& path,
                                      const std::vector<std::string>& extra = {});

}  // namespace sockscope::testing
