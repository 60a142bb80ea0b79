// Compressed capture files read as a stream under CaptureReader: gzip and zlib (zlib),
// zstd (libzstd) and LZ4 frames (liblz4), told apart by their magic numbers, decoded
// chunk by chunk straight into the reader's buffer (no temporary file, no second copy
// of the output). Concatenated members/frames are read one after the other, as the
// command-line tools do. Internal to the capture layer.
//
// Thread safety: one reader uses an instance, from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sockscope/capture_reader.hpp"

namespace sockscope::capture_detail {

// The compression a file starts with (kNone: not one of ours).
Compression detect_compression(const std::uint8_t* p, std::size_t n);

class Decompressor {
 public:
  // `fd` (>= 0) or `memory` is the compressed input; `prefix` its bytes already read
  // from `fd` (the magic number's look ahead).
  static std::unique_ptr<Decompressor> make(Compression kind, int fd, std::string_view memory,
                                            std::string_view prefix);
  virtual ~Decompressor();
  // Up to `n` bytes of output into `out`: how many (> 0), 0 at the end of the input, or
  // -1 with error() set (damaged data, an input that ends inside a frame, I/O).
  std::ptrdiff_t read(std::uint8_t* out, std::size_t n);
  const std::string& error() const { return error_; }
  bool truncated() const { return truncated_; }         // the error is an early end
  std::uint64_t consumed() const { return consumed_; }  // compressed bytes used so far

 protected:
  Decompressor() = default;
  // One step over [in, in + *in_len) into [out, out + *out_len): on return the lengths
  // are what was used and produced. False with error_ set on damage. `done()` says
  // whether the last step ended a frame (or member) exactly.
  virtual bool step(const std::uint8_t* in, std::size_t* in_len, std::uint8_t* out,
                    std::size_t* out_len) = 0;
  virtual bool done() const = 0;
  virtual void next_frame() = 0;  // after done(), when more input follows
  std::string error_;

 private:
  bool refill_input();
  int fd_ = -1;
  std::string_view memory_;
  std::unique_ptr<std::uint8_t[]> in_;
  std::size_t in_size_ = 0, in_pos_ = 0, in_end_ = 0;
  bool eof_ = false, truncated_ = false;
  std::uint64_t consumed_ = 0;
};

}  // namespace sockscope::capture_detail
