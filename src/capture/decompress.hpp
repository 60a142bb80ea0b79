// Compressed capture files read as a stream under CaptureReader: gzip and zlib (zlib),
// zstd (libzstd) and LZ4 frames (liblz4), told apart by their magic numbers, decoded
// chunk by chunk straight into the reader's buffer (no temporary file, no second copy
// of the output). Concatenated members/frames are read one after the other, as the
// command-line tools do. Internal to the capture layer.
//
// Thread safety: one reader uses an instance, from one thread (which may be served by a
// decompressing thread of the instance's own).
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

// What the reader reads decompressed bytes from.
class Decompressor {
 public:
  // `fd` (>= 0) or `memory` is the compressed input; `prefix` its bytes already read
  // from `fd` (the magic number's look ahead). A file is decompressed on a thread of its
  // own, a chunk ahead of the reader, so that reading a compressed capture goes at the
  // decompressor's own speed while the reader decodes; memory on the caller's thread.
  static std::unique_ptr<Decompressor> make(Compression kind, int fd, std::string_view memory,
                                            std::string_view prefix);
  virtual ~Decompressor();
  // Up to `n` bytes of output into `out`: how many (> 0), 0 at the end of the input, or
  // -1 with error() set (damaged data, an input that ends inside a frame, I/O).
  virtual std::ptrdiff_t read(std::uint8_t* out, std::size_t n) = 0;
  virtual std::string error() const = 0;
  virtual bool truncated() const = 0;          // the error is an early end
  virtual std::uint64_t consumed() const = 0;  // compressed bytes used so far
};

}  // namespace sockscope::capture_detail
