// Conversations collected for the table, --by and sorted machine output: hundreds of
// thousands arrive on the capture pipeline's busiest thread, so they are kept in
// 2 MB chunks (huge pages where the kernel offers them) that never move a record.
// A std::deque of 184-byte records held 2 per node: a malloc per two conversations
// and a page fault every 22: about a third of that thread's time on the bench capture.
// Not thread-safe: one thread appends, readers come after.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <iterator>
#include <new>
#include <vector>

#include "sockscope/capture.hpp"

namespace sockscope::cli {

class ConversationStore {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t(2) << 20;
  static constexpr std::size_t kPerChunk = kChunkBytes / sizeof(Conversation);

  ConversationStore() = default;
  ConversationStore(const ConversationStore&) = delete;
  ConversationStore& operator=(const ConversationStore&) = delete;
  ~ConversationStore() {
    for (std::size_t i = 0; i < size_; ++i) at(i).~Conversation();
    for (Conversation* chunk : chunks_) ::munmap(chunk, kChunkBytes);
  }

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
  void add_chunk() {
    chunks_.reserve(chunks_.size() + 1);  // so that the push_back below cannot throw
    void* p =
        ::mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    // One fault and one 2 MB clear per chunk instead of 512 faults; the first chunk
    // stays in small pages so that a small capture does not pay for 2 MB.
    if (!chunks_.empty()) ::madvise(p, kChunkBytes, MADV_HUGEPAGE);
    chunks_.push_back(static_cast<Conversation*>(p));
  }

  std::vector<Conversation*> chunks_;
  std::size_t size_ = 0;
};

}  // namespace sockscope::cli
