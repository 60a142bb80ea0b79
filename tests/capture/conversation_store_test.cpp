#include <gtest/gtest.h>

#include <string>

#include "sockscope/conversations.hpp"

namespace sockscope {
namespace {

// A conversation told apart by n: its client port, first time and history (long
// enough every 7th time to leave the string's inline buffer, which ASan then checks
// is freed).
Conversation numbered(std::size_t n) {
  Conversation c;
  c.pair.transport = Transport::kTcp;
  c.pair.first = Endpoint{IpAddress::v4(0x0a000001), Port(n % 65536)};
  c.pair.second = Endpoint{IpAddress::v4(0xc0a80001), 443};
  c.first_ns = n;
  c.history = n % 7 == 0 ? std::string(40, 'D') + std::to_string(n) : "ShAD" + std::to_string(n);
  return c;
}

TEST(ConversationStoreTest, KeepsOrderAcrossChunks) {
  ConversationStore store;
  EXPECT_TRUE(store.empty());
  EXPECT_EQ(store.begin(), store.end());
  // Three chunks and a part of a fourth.
  const std::size_t n = 3 * ConversationStore::kPerChunk + 1234;
  for (std::size_t i = 0; i < n; ++i) store.push_back(numbered(i));
  ASSERT_EQ(store.size(), n);
  for (std::size_t i :
       {std::size_t(0), ConversationStore::kPerChunk - 1, ConversationStore::kPerChunk,
        2 * ConversationStore::kPerChunk + 5, n - 1}) {
    const Conversation want = numbered(i);
    EXPECT_EQ(store[i].first_ns, want.first_ns);
    EXPECT_EQ(store[i].pair.first.port, want.pair.first.port);
    EXPECT_EQ(store[i].history, want.history);
  }
  std::size_t seen = 0;
  for (const Conversation& c : store) {
    ASSERT_EQ(c.first_ns, seen);
    ++seen;
  }
  EXPECT_EQ(seen, n);
}

TEST(ConversationStoreTest, ChunksHoldWholeRecords) {
  EXPECT_GE(ConversationStore::kPerChunk, 1000u);
  EXPECT_LE(ConversationStore::kPerChunk * sizeof(Conversation), ConversationStore::kChunkBytes);
}

}  // namespace
}  // namespace sockscope
