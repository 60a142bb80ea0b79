// The sender thread's queue: every message sent once and in order, the producer
// waits (not drops) when it is full, and close() sends what is held.
#include "ipfix/send_thread.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <span>
#include <thread>
#include <vector>

namespace sockscope::ipfix {
namespace {

TEST(IpfixSendThread, AFullQueueMakesTheProducerWaitAndLosesNothing) {
  std::vector<std::uint8_t> sent;  // the first byte of each message, in order
  std::size_t records = 0;
  SendThread sender(100, [&](const SendThread::Message& m) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a slow collector
    sent.push_back(m.bytes[0]);
    records += m.records;
  });
  for (int i = 0; i < 200; ++i) {
    const std::vector<std::uint8_t> message(40, std::uint8_t(i));
    sender.push(message, 2);
  }
  sender.close();  // what was queued is sent before it returns
  ASSERT_EQ(sent.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sent[i], std::uint8_t(i));
  EXPECT_EQ(records, 400u);
  EXPECT_GT(sender.waits(), 0u);  // 100 bytes hold two messages: the producer waited
}

TEST(IpfixSendThread, AMessageLargerThanTheQueueStillGoes) {
  std::size_t bytes = 0;
  SendThread sender(10, [&](const SendThread::Message& m) { bytes += m.bytes.size(); });
  const std::vector<std::uint8_t> big(1000, 1);
  sender.push(big, 1);
  sender.push(big, 1);
  sender.close();
  EXPECT_EQ(bytes, 2000u);
}

TEST(IpfixSendThread, BatchesHoldWhatIsQueuedInOrderUpToTheirBound) {
  std::vector<std::uint8_t> sent;
  std::size_t largest = 0;
  SendThread sender(1 << 20, 8, [&](std::span<const SendThread::Message> batch, bool) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // messages queue meanwhile
    largest = std::max(largest, batch.size());
    for (const auto& m : batch) sent.push_back(m.bytes[0]);
  });
  for (int i = 0; i < 200; ++i) {
    const std::vector<std::uint8_t> message(40, std::uint8_t(i));
    sender.push(message, 1);
  }
  sender.close();
  ASSERT_EQ(sent.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sent[i], std::uint8_t(i));
  EXPECT_LE(largest, 8u);
  EXPECT_GT(largest, 1u);  // messages pushed while a batch was sent went together
}

// Waits (bounded) until `done` holds; false when it never did.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 400 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

TEST(IpfixSendThread, AnIdleSenderWaitsForItsWakeMarkOrAKick) {
  std::atomic<std::size_t> sent{0};
  std::atomic<int> batches{0};
  SendThread sender(
      1 << 20, 64,
      [&](std::span<const SendThread::Message> batch, bool) {
        ++batches;
        sent += batch.size();
      },
      4);
  const std::vector<std::uint8_t> message(40, 7);
  for (int i = 0; i < 3; ++i) sender.push(message, 1);
  // Below the mark of 4 nothing wakes the sender: the three wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sent.load(), 0u);
  sender.kick();  // a flush: they go now, in one batch
  EXPECT_TRUE(eventually([&] { return sent.load() == 3; }));
  EXPECT_EQ(batches.load(), 1);
  // The fourth message queued reaches the mark and wakes it without a kick.
  for (int i = 0; i < 3; ++i) sender.push(message, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sent.load(), 3u);
  sender.push(message, 1);
  EXPECT_TRUE(eventually([&] { return sent.load() == 7; }));
  EXPECT_EQ(batches.load(), 2);
  // What is below the mark at the end goes at close().
  sender.push(message, 1);
  sender.close();
  EXPECT_EQ(sent.load(), 8u);
}

TEST(IpfixSendThread, HalfTheCapacityQueuedWakesTheSenderBelowItsMark) {
  std::atomic<std::size_t> bytes{0};
  SendThread sender(
      1000, 64,
      [&](std::span<const SendThread::Message> batch, bool) {
        for (const auto& m : batch) bytes += m.bytes.size();
      },
      1000);
  const std::vector<std::uint8_t> message(250, 1);
  sender.push(message, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(bytes.load(), 0u);
  sender.push(message, 1);  // 500 of 1,000 bytes
  EXPECT_TRUE(eventually([&] { return bytes.load() == 500; }));
  // A producer that must wait for room wakes an idle sender below both marks (without
  // that, it would wait for ever).
  const std::vector<std::uint8_t> small(400, 2), large(700, 3);
  sender.push(small, 1);  // 400 of 1,000 bytes: below half
  sender.push(large, 1);  // 1,100 do not fit: the producer waits for room
  sender.close();
  EXPECT_EQ(bytes.load(), 500u + 400 + 700);
  EXPECT_EQ(sender.waits(), 1u);
}

TEST(IpfixSendThread, IdleRunsWhileNoMessageComes) {
  std::atomic<int> idles{0};
  SendThread sender(
      100, [](const SendThread::Message&) {}, std::chrono::milliseconds(5), [&] { ++idles; });
  for (int i = 0; i < 200 && idles.load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sender.close();
  EXPECT_GE(idles.load(), 3);
}

}  // namespace
}  // namespace sockscope::ipfix
