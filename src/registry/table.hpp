// The embedded IANA table, read in place: the generated arrays of
// iana_table.inc (see tools/gen-registry for their layout) and the functions
// that index them. Internal to src/registry.
//
// Thread safety: everything here is immutable static data, except the Service
// objects handed out by service(), which are filled on first use, each exactly
// once, guarded by a per-record atomic state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "sockscope/registry.hpp"

namespace sockscope::registry {

// One named assignment. Strings are byte offsets into the pool (0 = "").
struct Record {
  std::uint32_t name;
  std::uint32_t description;
  std::uint32_t reference;
  std::uint32_t alias_of;
  std::uint16_t first;
  std::uint16_t last;
  std::uint8_t transport;  // sockscope::Transport
  std::uint8_t flags;      // kFlagAlias
};
inline constexpr std::uint8_t kFlagAlias = 1;

// A slot of the name hash table; count 0 marks an empty slot.
struct NameSlot {
  std::uint32_t name;             // pool offset of the name (as first spelled in kNameOrder)
  std::uint16_t first;            // position in kNameOrder of the name's first record
  std::uint16_t count;            // number of records with this name
  std::uint16_t by_transport[4];  // its first record per transport; 0xFFFF: none
};

// One of IANA's unnamed rows that is not plain "Unassigned" ("Reserved", ...).
struct Note {
  std::uint32_t description;
  std::uint32_t reference;
  std::uint16_t first;
  std::uint16_t last;
  std::uint8_t transport;
  std::uint8_t kind;  // kNoteReserved or kNoteUnassigned
};
inline constexpr std::uint8_t kNoteReserved = 0;
inline constexpr std::uint8_t kNoteUnassigned = 1;

std::size_t record_count();
const Record& record(std::size_t index);
std::string_view pool_string(std::uint32_t offset);
// The record's Service, built on first use (stable address, thread-safe).
const Service& service(std::size_t index);
// The record index of a Service returned by service().
std::size_t service_index(const Service& s);

// Indices of the records covering port/transport: primaries first, then aliases,
// each in IANA's order. Empty for icmp and for ports nobody has.
std::span<const std::uint16_t> port_records(Port port, Transport transport);
// Record indices sorted by lowercase name, transport, first port.
std::span<const std::uint16_t> name_order();
// ASCII-lowercases 8 bytes at once: bytes 'A'..'Z' get 0x20 added.
inline std::uint64_t fold8(std::uint64_t x) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const std::uint64_t low7 = x & ~kHigh;
  const std::uint64_t at_least_a = low7 + kOnes * (0x80 - 'A');
  const std::uint64_t above_z = low7 + kOnes * (0x80 - 'Z' - 1);
  return x | ((at_least_a & ~above_z & ~x & kHigh) >> 2);
}

// Bytes p[0..n) (1 <= n <= 8) as a little-endian word, zero above: overlapping
// loads instead of memcpy into a stack word, which stalls store forwarding.
inline std::uint64_t load_upto8(const char* p, std::size_t n) {
  std::uint64_t x = 0;
  if (n == 8) {
    std::memcpy(&x, p, 8);
  } else if (n >= 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    x = lo | std::uint64_t(hi) << (8 * (n - 4));
  } else {
    x = std::uint64_t(static_cast<unsigned char>(p[0])) |
        std::uint64_t(static_cast<unsigned char>(p[n / 2])) << (8 * (n / 2)) |
        std::uint64_t(static_cast<unsigned char>(p[n - 1])) << (8 * (n - 1));
  }
  return x;
}

// Hash of the ASCII-lowercased name, 8 bytes per step (tools/gen-registry
// computes the same in Python for the generated table).
inline std::uint32_t name_hash(std::string_view name) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ name.size();
  for (std::size_t i = 0; i < name.size(); i += 8) {
    const std::uint64_t chunk =
        load_upto8(name.data() + i, std::min<std::size_t>(8, name.size() - i));
    h = (h ^ fold8(chunk)) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  return static_cast<std::uint32_t>(h);
}
// The records named `name` (case-insensitive), a part of name_order(); `hash`
// is name_hash(name). O(1): one probe of a generated hash table, usually.
std::span<const std::uint16_t> records_named(std::string_view name, std::uint32_t hash);
// The first record named `name` on `transport`, or -1. Same cost as records_named.
int first_record_named(std::string_view name, std::uint32_t hash, Transport transport);
// IANA's note for an unnamed port, or nullptr.
const Note* note_for(Port port, Transport transport);

std::size_t source_pairs();

// ASCII case folding: service names are case-insensitive (RFC 6335 5.1).
constexpr char fold(char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;  // the usual case: both already lowercase
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}
// <0, 0, >0 like strcmp, comparing folded characters.
int icompare(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
// Whether `word` starts a word of `text` (at its start or after a character
// that is not a letter or digit).
bool contains_word_start(std::string_view text, std::string_view word);

}  // namespace sockscope::registry
