// SHA-1 in portable C++ and, on x86-64, with the SHA extensions, chosen once per
// process; base64. The Community ID hashes ~40 bytes (one block) per conversation,
// so what counts is the cost of one block and of the code around it: padding on
// the stack, no allocation, and the SHA-NI state kept in registers to the digest.
#include "core/sha1.hpp"

#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace sockscope::detail {
namespace {

std::uint32_t rotl(std::uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v >> 24);
  p[1] = std::uint8_t(v >> 16);
  p[2] = std::uint8_t(v >> 8);
  p[3] = std::uint8_t(v);
}

// A message as the block function consumes it: its whole 64-byte blocks in place,
// then the rest, 0x80, zeros and the length in bits: one block, or two when the
// rest leaves fewer than 9 bytes. On the stack: no allocation per hash.
struct Padded {
  Padded(const std::uint8_t* data, std::size_t size)
      : blocks(data), block_count(size / 64), tail_count(size % 64 + 1 + 8 <= 64 ? 1 : 2) {
    const std::size_t rest = size % 64, tail_size = 64 * tail_count;
    if (rest > 0) std::memcpy(tail, data + 64 * block_count, rest);
    tail[rest] = 0x80;
    std::memset(tail + rest + 1, 0, tail_size - 8 - rest - 1);
    store_be32(tail + tail_size - 8, std::uint32_t(std::uint64_t(size) >> 29));
    store_be32(tail + tail_size - 4, std::uint32_t(size << 3));
  }
  const std::uint8_t* blocks;
  std::size_t block_count;
  std::size_t tail_count;
  std::uint8_t tail[128];
};

struct Words {
  std::uint32_t a, b, c, d, e;
};

// Rounds 20*kPhase .. 20*kPhase+19. The schedule lives in a 16-word ring (W[t]
// overwrites W[t-16]) rather than all 80 words.
template <int kPhase>
void portable_rounds(Words& s, std::uint32_t* w) {
  static constexpr std::uint32_t kK[] = {0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6};
#pragma GCC unroll 20
  for (int t = 20 * kPhase; t < 20 * kPhase + 20; ++t) {
    if (t >= 16) {
      w[t & 15] = rotl(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
    }
    std::uint32_t f;
    if constexpr (kPhase == 0) {
      f = s.d ^ (s.b & (s.c ^ s.d));  // choose: b ? c : d
    } else if constexpr (kPhase == 2) {
      f = (s.b & s.c) | (s.d & (s.b | s.c));  // majority
    } else {
      f = s.b ^ s.c ^ s.d;  // parity
    }
    std::uint32_t next_a = rotl(s.a, 5) + f + s.e + kK[kPhase] + w[t & 15];
    s.e = s.d;
    s.d = s.c;
    s.c = rotl(s.b, 30);
    s.b = s.a;
    s.a = next_a;
  }
}

void portable_blocks(std::uint32_t* h, const std::uint8_t* data, std::size_t count) {
  for (; count > 0; --count, data += 64) {
    std::uint32_t w[16];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(data + 4 * t);
    Words s{h[0], h[1], h[2], h[3], h[4]};
    portable_rounds<0>(s, w);
    portable_rounds<1>(s, w);
    portable_rounds<2>(s, w);
    portable_rounds<3>(s, w);
    h[0] += s.a;
    h[1] += s.b;
    h[2] += s.c;
    h[3] += s.d;
    h[4] += s.e;
  }
}

Sha1Digest portable_sha1(const std::uint8_t* data, std::size_t size) {
  const Padded message(data, size);
  std::uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  portable_blocks(h, message.blocks, message.block_count);
  portable_blocks(h, message.tail, message.tail_count);
  Sha1Digest out;
  for (int k = 0; k < 5; ++k) store_be32(out.data() + 4 * k, h[k]);
  return out;
}

#if defined(__x86_64__)
// The SHA extensions work on four rounds at a time: sha1rnds4 runs four rounds of
// one phase on ABCD (A in the highest lane) given W[t..t+3] with E added to W[t];
// sha1nexte derives that E from the A of four rounds earlier; sha1msg1/sha1msg2
// compute the next four schedule words from the previous sixteen. Only these
// functions are compiled for the extensions, so the rest of the build keeps its
// flags and the choice is made at run time.
#define SOCKSCOPE_SHA_TARGET __attribute__((target("sha,sse4.1")))

// Four rounds, number kGroup*4 .. kGroup*4+3. `e` holds, for group 0, the vector
// with E in its highest lane; afterwards, the ABCD from before the previous group.
template <int kGroup>
SOCKSCOPE_SHA_TARGET inline void sha_ni_group(__m128i& abcd, __m128i& e, __m128i* w,
                                              const std::uint8_t* block) {
  __m128i& wg = w[kGroup % 4];  // W of group kGroup-4, replaced by group kGroup's
  if constexpr (kGroup < 4) {
    // Big-endian words, W[t] in the highest lane: reverse all 16 bytes.
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    wg = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * kGroup)),
                          reverse);
  } else {
    wg = _mm_sha1msg1_epu32(wg, w[(kGroup + 1) % 4]);
    wg = _mm_xor_si128(wg, w[(kGroup + 2) % 4]);
    wg = _mm_sha1msg2_epu32(wg, w[(kGroup + 3) % 4]);
  }
  const __m128i we = kGroup == 0 ? _mm_add_epi32(e, wg) : _mm_sha1nexte_epu32(e, wg);
  e = abcd;
  abcd = _mm_sha1rnds4_epu32(abcd, we, kGroup / 5);
}

template <int... kGroups>
SOCKSCOPE_SHA_TARGET inline void sha_ni_rounds(__m128i& abcd, __m128i& e, const std::uint8_t* block,
                                               std::integer_sequence<int, kGroups...>) {
  __m128i w[4];
  (sha_ni_group<kGroups>(abcd, e, w, block), ...);
}

// The state stays in registers across the message's blocks and its padding: ABCD
// with A in the highest lane, and E in the highest lane of `e0`.
SOCKSCOPE_SHA_TARGET inline void sha_ni_blocks(__m128i& abcd, __m128i& e0, const std::uint8_t* data,
                                               std::size_t count) {
  for (; count > 0; --count, data += 64) {
    const __m128i abcd_before = abcd, e0_before = e0;
    __m128i e = e0;
    sha_ni_rounds(abcd, e, data, std::make_integer_sequence<int, 20>());
    e0 = _mm_sha1nexte_epu32(e, e0_before);  // E after the last group, plus E before
    abcd = _mm_add_epi32(abcd, abcd_before);
  }
}

SOCKSCOPE_SHA_TARGET Sha1Digest sha_ni_sha1(const std::uint8_t* data, std::size_t size) {
  const Padded message(data, size);
  __m128i abcd = _mm_set_epi32(0x67452301, int(0xefcdab89), int(0x98badcfe), 0x10325476);
  __m128i e0 = _mm_set_epi32(int(0xc3d2e1f0), 0, 0, 0);
  sha_ni_blocks(abcd, e0, message.blocks, message.block_count);
  sha_ni_blocks(abcd, e0, message.tail, message.tail_count);
  Sha1Digest out;
  // A, B, C, D big-endian from the highest lane down: all 16 bytes reversed.
  const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data()), _mm_shuffle_epi8(abcd, reverse));
  store_be32(out.data() + 16, std::uint32_t(_mm_extract_epi32(e0, 3)));
  return out;
}

// CPUID rather than __builtin_cpu_supports: clang 16 does not know "sha" there.
bool cpu_has_sha() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_SSE4_1)) return false;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & bit_SHA);
}

Sha1Function accelerated_sha1() {
  static const Sha1Function chosen = cpu_has_sha() ? &sha_ni_sha1 : nullptr;
  return chosen;
}
#else
Sha1Function accelerated_sha1() { return nullptr; }
#endif

Sha1Function best_sha1() {
  static const Sha1Function chosen = accelerated_sha1() ? accelerated_sha1() : &portable_sha1;
  return chosen;
}

}  // namespace

Sha1Digest sha1(const std::uint8_t* data, std::size_t size) { return best_sha1()(data, size); }

Sha1Digest sha1_portable(const std::uint8_t* data, std::size_t size) {
  return portable_sha1(data, size);
}

std::optional<Sha1Digest> sha1_accelerated(const std::uint8_t* data, std::size_t size) {
  if (Sha1Function hash = accelerated_sha1()) return hash(data, size);
  return std::nullopt;
}

bool sha1_accelerated_available() { return accelerated_sha1() != nullptr; }

char* base64_to(const std::uint8_t* data, std::size_t size, char* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t v =
        std::uint32_t(data[i]) << 16 | std::uint32_t(data[i + 1]) << 8 | data[i + 2];
    *out++ = kAlphabet[v >> 18];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = kAlphabet[v & 63];
  }
  if (i < size) {  // one or two bytes left: two or three characters, then '='
    const bool two = size - i == 2;
    const std::uint32_t v =
        std::uint32_t(data[i]) << 16 | (two ? std::uint32_t(data[i + 1]) << 8 : 0);
    *out++ = kAlphabet[v >> 18];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = two ? kAlphabet[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  return out;
}

}  // namespace sockscope::detail
