// Orders and groups of collected conversations (sockscope/conversations.hpp).
#include "sockscope/conversations.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <map>
#include <new>
#include <set>
#include <utility>

#include "core/radix_sort.hpp"

namespace sockscope {

ConversationStore::~ConversationStore() {
  for (std::size_t i = 0; i < size_; ++i) at(i).~Conversation();
  for (Conversation* chunk : chunks_) ::munmap(chunk, kChunkBytes);
}

void ConversationStore::add_chunk() {
  chunks_.reserve(chunks_.size() + 1);  // so that the push_back below cannot throw
  void* p =
      ::mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // One fault and one 2 MB clear per chunk instead of 512 faults; the first chunk
  // stays in small pages so that a small capture does not pay for 2 MB.
  if (!chunks_.empty()) ::madvise(p, kChunkBytes, MADV_HUGEPAGE);
  chunks_.push_back(static_cast<Conversation*>(p));
}

namespace {

constexpr std::string_view kOrders[] = {"bytes", "packets", "duration", "first", "conversations"};
constexpr std::string_view kGroups[] = {"service", "server", "client"};

// Sort key and direction of an order.
struct Metric {
  std::uint64_t (*of)(const Conversation&);
  bool descending;
};

Metric metric_of(ConversationOrder order) {
  switch (order) {
    case ConversationOrder::kPackets:
      return {[](const Conversation& c) { return c.packets(); }, true};
    case ConversationOrder::kDuration:
      return {[](const Conversation& c) { return c.duration_ns(); }, true};
    case ConversationOrder::kFirst:
      return {[](const Conversation& c) { return c.first_ns; }, false};
    case ConversationOrder::kBytes:
    case ConversationOrder::kConversations: break;
  }
  return {[](const Conversation& c) { return c.ip_bytes(); }, true};
}

// What a group is keyed and ordered by before the metric (the old string order).
struct Accumulator {
  ConversationGroup group;
  std::set<std::string> peers;
  std::set<Port> client_ports;
};

}  // namespace

std::string_view to_string(ConversationOrder order) { return kOrders[std::size_t(order)]; }

std::expected<ConversationOrder, Error> parse_conversation_order(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kOrders); ++i) {
    if (kOrders[i] == text) return ConversationOrder(i);
  }
  return std::unexpected(Error::at(
      Error::Code::kBadSyntax, "unknown order (want bytes, packets, duration or first)", 0, text));
}

std::string_view to_string(GroupBy by) { return kGroups[std::size_t(by)]; }

std::expected<GroupBy, Error> parse_group_by(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kGroups); ++i) {
    if (kGroups[i] == text) return GroupBy(i);
  }
  return std::unexpected(Error::at(Error::Code::kBadSyntax,
                                   "unknown grouping (want service, server or client)", 0, text));
}

// Sorting 16-byte (key, index) pairs moves far less memory than a stable sort of the
// records themselves; the radix sort is stable, so ties keep the collection order.
std::vector<const Conversation*> sorted(const ConversationStore& all, ConversationOrder order) {
  const Metric m = metric_of(order);
  struct Key {
    std::uint64_t value;
    std::size_t index;
  };
  std::vector<Key> keys(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    // Descending order is ascending order of the complement.
    keys[i] = {m.descending ? ~m.of(all[i]) : m.of(all[i]), i};
  }
  radix_sort(keys, [](const Key& k) { return k.value; });
  std::vector<const Conversation*> rows(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) rows[i] = &all[keys[i].index];
  return rows;
}

std::vector<ConversationGroup> group_conversations(const ConversationStore& all, GroupBy by,
                                                   const Naming& naming, ConversationOrder order) {
  std::map<std::pair<std::string, std::string>, Accumulator> groups;
  for (const Conversation& c : all) {
    const std::string transport(to_string(c.pair.transport));
    const Service* s = naming.service(c.pair.transport, c.pair.second.port, c.evidence);
    const std::string service = s ? std::string(s->name) : std::string();
    std::string key;
    switch (by) {
      case GroupBy::kService:
        key = !has_ports(c.pair.transport) ? "-"
              : service.empty()            ? "port " + std::to_string(c.pair.second.port)
                                           : service;
        break;
      case GroupBy::kServer: key = c.pair.second.to_string(); break;
      case GroupBy::kClient: key = c.pair.first.address.to_string(); break;
    }
    // A client host's conversations over every transport form one group.
    Accumulator& a = groups[{by == GroupBy::kClient ? std::string() : transport, key}];
    ConversationGroup& g = a.group;
    if (g.transport.find(transport) == std::string::npos) {
      g.transport += (g.transport.empty() ? "" : ",") + transport;
    }
    g.service = by == GroupBy::kService ? key : service;
    g.server = c.pair.second;
    g.client = c.pair.first.address;
    ++g.conversations;
    g.packets += c.packets();
    g.bytes += c.ip_bytes();
    if (by == GroupBy::kClient) {
      a.peers.insert(c.pair.second.to_string());
      a.client_ports.insert(c.pair.first.port);
    } else {
      a.peers.insert(c.pair.first.address.to_string());
    }
  }
  std::vector<ConversationGroup> rows;
  rows.reserve(groups.size());
  for (auto& [k, a] : groups) {
    a.group.peers = a.peers.size();
    a.group.client_ports = a.client_ports.size();
    rows.push_back(std::move(a.group));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const ConversationGroup& a, const ConversationGroup& b) {
                     if (order == ConversationOrder::kPackets) return a.packets > b.packets;
                     if (order == ConversationOrder::kConversations)
                       return a.conversations > b.conversations;
                     return a.bytes > b.bytes;
                   });
  return rows;
}

}  // namespace sockscope
