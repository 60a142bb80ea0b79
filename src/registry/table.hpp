// The embedded IANA table, read in place: the generated arrays of
// iana_table.inc (see tools/gen-registry for their layout) and the functions
// that index them. Internal to src/registry.
//
// Thread safety: everything here is immutable static data, except the Service
// objects handed out by service(), which are filled on first use, each exactly
// once, guarded by a per-record atomic state.
#pragma once

#include <cstddef>
#include <cstdint>
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
// IANA's note for an unnamed port, or nullptr.
const Note* note_for(Port port, Transport transport);

std::string_view source_name();
std::size_t source_pairs();

// ASCII case folding: service names are case-insensitive (RFC 6335 5.1).
constexpr char fold(char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }
bool iequals(std::string_view a, std::string_view b);
// <0, 0, >0 like strcmp, comparing folded characters.
int icompare(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
// Whether `word` starts a word of `text` (at its start or after a character
// that is not a letter or digit).
bool contains_word_start(std::string_view text, std::string_view word);

}  // namespace sockscope::registry
