// The reader's decompressors (gzip/zlib, zstd, LZ4) under arbitrary input. The first
// byte picks the compression and whether the rest is compressed here first (a valid
// stream whose content is arbitrary: the capture parser behind the decompressor is
// fuzzed too) or follows the magic number as it is (damaged streams). Properties: no
// crash or out-of-bounds access (every record's bytes are touched), progress never
// passes the input.
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sockscope/capture_reader.hpp"

namespace {

std::string compress(int kind, const std::uint8_t* data, std::size_t size) {
  std::string out;
  if (kind == 0 || kind == 1) {  // gzip (windowBits 15 + 16) or zlib
    z_stream z{};
    if (deflateInit2(&z, 1, Z_DEFLATED, kind == 0 ? 31 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return out;
    }
    out.resize(deflateBound(&z, uLong(size)));
    z.next_in = const_cast<Bytef*>(data);
    z.avail_in = uInt(size);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
  } else if (kind == 2) {
    out.resize(ZSTD_compressBound(size));
    const std::size_t n = ZSTD_compress(out.data(), out.size(), data, size, 1);
    out.resize(ZSTD_isError(n) ? 0 : n);
  } else {
    out.resize(LZ4F_compressFrameBound(size, nullptr));
    const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), data, size, nullptr);
    out.resize(LZ4F_isError(n) ? 0 : n);
  }
  return out;
}

constexpr std::string_view kMagic[] = {
    {"\x1f\x8b\x08\x00", 4}, {"\x78\x9c", 2}, {"\x28\xb5\x2f\xfd", 4}, {"\x04\x22\x4d\x18", 4}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int kind = data[0] & 3;
  std::string input;
  if (data[0] & 0x80) {
    input = compress(kind, data + 1, size - 1);
  } else {
    input.assign(kMagic[kind]);
    input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  }
  auto reader = sockscope::CaptureReader::from_memory(input);
  if (!reader) return 0;
  // The records as the read loop takes them (the table behind it has its own targets).
  sockscope::RawPacket raw;
  std::uint64_t bytes = 0;
  for (int i = 0; i < 100'000 && (*reader)->next(raw); ++i) {
    for (std::uint32_t k = 0; k < raw.caplen; k += 64) bytes += raw.data[k];  // readable?
  }
  if ((*reader)->input_offset() > input.size()) std::abort();
  static volatile std::uint64_t sink;
  sink = bytes;
  return 0;
}
