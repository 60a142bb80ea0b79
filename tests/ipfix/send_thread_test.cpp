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
