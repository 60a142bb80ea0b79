// sockscope/conversations.hpp: collected conversations, their order and their groups.
//
//   #include <sockscope/capture_input.hpp>
//   #include <iostream>
//   ConversationStore all;
//   ConversationTable table({}, [&](const Conversation& c) { all.push_back(c); });
//   auto input = CaptureInput::open_file("sample.pcapng");
//   if (!input) return 1;
//   CaptureStats stats;
//   (*input)->read(table, stats);
//   table.finish();
//   const Conversation* largest = sorted(all, ConversationOrder::kBytes)[0];  // largest first
//   std::cout << largest->pair.to_string() << '\n';
//   // => udp 10.0.0.6:34242, 198.51.100.118:53
//   Naming naming(Registry::builtin());
//   auto services = group_conversations(all, GroupBy::kService, naming);  // or kServer, kClient
//   std::cout << services[0].service << ": " << services[0].conversations << " conversations\n";
//   // => domain: 6 conversations
//
// Hundreds of thousands of conversations arrive on the capture pipeline's busiest
// thread, so the store keeps them in 2 MB chunks (huge pages where the kernel offers
// them; src/capture/conversations.cpp) that never move a record: a std::deque of
// 184-byte records held 2 per node, a malloc per two conversations and a page fault
// every 22. push_back() stays inline: it runs once per conversation.
// Thread safety: one thread appends; readers come after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/capture.hpp"
#include "sockscope/error.hpp"
#include "sockscope/naming.hpp"

namespace sockscope {

class ConversationStore {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t(2) << 20;
  static constexpr std::size_t kPerChunk = kChunkBytes / sizeof(Conversation);

  ConversationStore() = default;
  ConversationStore(const ConversationStore&) = delete;
  ConversationStore& operator=(const ConversationStore&) = delete;
  ~ConversationStore();

  void push_back(const Conversation& c) {
    if (size_ == chunks_.size() * kPerChunk) add_chunk();
    new (&at(size_)) Conversation(c);
    ++size_;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Conversation& operator[](std::size_t i) const {
    return chunks_[i / kPerChunk][i % kPerChunk];
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Conversation;
    using difference_type = std::ptrdiff_t;
    using pointer = const Conversation*;
    using reference = const Conversation&;
    const_iterator(const ConversationStore* store, std::size_t i) : store_(store), i_(i) {}
    reference operator*() const { return (*store_)[i_]; }
    pointer operator->() const { return &(*store_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const ConversationStore* store_;
    std::size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  Conversation& at(std::size_t i) { return chunks_[i / kPerChunk][i % kPerChunk]; }
  void add_chunk();  // out of line: once per kPerChunk conversations

  std::vector<Conversation*> chunks_;
  std::size_t size_ = 0;
};

// The orders of --sort: bytes, packets, duration (largest first), first (earliest
// first); groups also by conversations.
enum class ConversationOrder : std::uint8_t { kBytes, kPackets, kDuration, kFirst, kConversations };
std::string_view to_string(ConversationOrder order);
std::expected<ConversationOrder, Error> parse_conversation_order(std::string_view text);

// The conversations in `order` (kConversations: as kBytes); ties keep the store's
// order (a stable radix sort over (key, index) pairs: 500k rows in a few ms).
std::vector<const Conversation*> sorted(const ConversationStore& all, ConversationOrder order);

enum class GroupBy : std::uint8_t {
  kService,  // transport + the server port's service name ("port N" without one)
  kServer,   // every conversation to one server socket
  kClient,   // every conversation of one client host (all transports together)
};
std::string_view to_string(GroupBy by);  // "service", "server", "client"
std::expected<GroupBy, Error> parse_group_by(std::string_view text);

struct ConversationGroup {
  std::string transport;  // "tcp"; a client host's transports joined: "tcp,udp"
  std::string service;    // kService: the key; kServer: the service name or ""
  Endpoint server;        // kServer
  IpAddress client;       // kClient
  std::uint64_t conversations = 0, packets = 0, bytes = 0;  // bytes: IP bytes both ways
  std::size_t peers = 0;         // distinct client hosts (service, server) or servers (client)
  std::size_t client_ports = 0;  // kClient: distinct client ports
};

// One group per key, `order` descending (kFirst and kDuration: by bytes); ties by key.
std::vector<ConversationGroup> group_conversations(
    const ConversationStore& all, GroupBy by, const Naming& naming,
    ConversationOrder order = ConversationOrder::kBytes);

}  // namespace sockscope
