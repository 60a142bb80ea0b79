// Streaming output for `sockscope conversations --json/--csv/--zeek`: conversations
// arrive as they end (on the table's worker thread, see read_capture()) and are
// formatted and written on a thread of their own, so the worker goes back to counting
// packets. Memory is bounded: the emitting thread waits when eight chunks are queued.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "output/conversation_rows.hpp"
#include "output/sink.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/naming.hpp"

namespace sockscope::output {

class RowStream {
 public:
  // `naming` must be safe for concurrent readers (its cache off).
  RowStream(const Naming& naming, ConversationEncoder row);
  ~RowStream();
  RowStream(const RowStream&) = delete;
  RowStream& operator=(const RowStream&) = delete;

  // From one thread at a time (the emitting thread). Rows go out in push order.
  void push(const Conversation& c);
  // Writes what is left and stops the thread; rethrows what formatting threw.
  void finish();

 private:
  static constexpr std::size_t kChunk = 2048;  // conversations per hand-over
  static constexpr std::size_t kQueued = 8;    // chunks waiting at most
  void run();
  void hand_over();

  const Naming& naming_;
  ConversationEncoder row_;
  std::vector<Conversation> filling_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::vector<Conversation>> queue_;
  // Chunks written out, kept for reuse: a new 380 KB chunk per hand-over came from
  // memory the allocator had just given back to the kernel, so the emitting thread
  // (the pipeline's busiest) paid a page fault and a page clear every 22 records.
  std::vector<std::vector<Conversation>> spare_;
  bool done_ = false, finished_ = false;
  std::exception_ptr error_;
  Sink out_;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace sockscope::output
