// The generated IANA table and its indexes (see table.hpp).
#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>

#include "registry/table.hpp"

namespace sockscope::registry {
namespace {

#include "registry/iana_table.inc"

constexpr std::size_t kRecordCount = std::size(kRecords);
static_assert(kRecordCount < 65535, "record indices are 16-bit");
static_assert(std::size(kPostings) >= kRecordCount);

// Filled lazily so that start-up touches nothing: a constexpr array of Service
// would need one load-time relocation per string (~1 MB of them for the table).
Service g_services[kRecordCount];
enum : std::uint8_t { kEmpty, kFilling, kReady };
std::atomic<std::uint8_t> g_state[kRecordCount];

void fill(std::size_t index) {
  const Record& r = kRecords[index];
  Service& s = g_services[index];
  s.name = pool_string(r.name);
  s.ports = {r.first, r.last};
  s.transport = static_cast<Transport>(r.transport);
  s.description = pool_string(r.description);
  s.reference = pool_string(r.reference);
  s.alias_of = pool_string(r.alias_of);
  s.source = Service::kIana;
}

}  // namespace

std::size_t record_count() { return kRecordCount; }
const Record& record(std::size_t index) { return kRecords[index]; }
std::string_view pool_string(std::uint32_t offset) { return std::string_view(kPool + offset); }

const Service& service(std::size_t index) {
  auto& state = g_state[index];
  if (state.load(std::memory_order_acquire) != kReady) {
    std::uint8_t expected = kEmpty;
    if (state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) {
      fill(index);
      state.store(kReady, std::memory_order_release);
    } else {
      while (state.load(std::memory_order_acquire) != kReady) std::this_thread::yield();
    }
  }
  return g_services[index];
}

std::size_t service_index(const Service& s) { return static_cast<std::size_t>(&s - g_services); }

std::span<const std::uint16_t> port_records(Port port, Transport transport) {
  const auto t = static_cast<std::size_t>(transport);
  if (t >= std::size(kBitmap)) return {};
  const std::uint64_t word = kBitmap[t][port >> 6];
  const unsigned bit = port & 63u;
  if ((word >> bit & 1u) == 0) return {};
  const std::uint32_t slot =
      kRank[t][port >> 6] + unsigned(std::popcount(word & ((std::uint64_t{1} << bit) - 1)));
  return {kPostings + kSlots[slot], kPostings + kSlots[slot + 1]};
}

std::span<const std::uint16_t> name_order() { return kNameOrder; }

namespace {

// Whether the pool's NUL-terminated string at `offset` is `name`, ignoring case.
bool pool_iequals(std::uint32_t offset, std::string_view name) {
  const char* p = kPool + offset;
  for (char c : name) {
    const char d = *p++;
    if (d != c && (d == '\0' || fold(d) != fold(c))) return false;
  }
  return *p == '\0';
}

// The slot of `name`, or nullptr.
const NameSlot* name_slot(std::string_view name, std::uint32_t hash) {
  constexpr std::uint32_t kMask = std::size(kNameHash) - 1;
  static_assert((std::size(kNameHash) & kMask) == 0, "kNameHash size is a power of two");
  for (std::uint32_t slot = hash & kMask;; slot = (slot + 1) & kMask) {
    const NameSlot& entry = kNameHash[slot];
    if (entry.count == 0) return nullptr;
    if (pool_iequals(entry.name, name)) return &entry;
  }
}

}  // namespace

std::span<const std::uint16_t> records_named(std::string_view name, std::uint32_t hash) {
  const NameSlot* slot = name_slot(name, hash);
  if (!slot) return {};
  return {kNameOrder + slot->first, slot->count};
}

int first_record_named(std::string_view name, std::uint32_t hash, Transport transport) {
  const auto t = static_cast<std::size_t>(transport);
  if (t >= 4) return -1;
  const NameSlot* slot = name_slot(name, hash);
  if (!slot || slot->by_transport[t] == 0xFFFF) return -1;
  return slot->by_transport[t];
}

const Note* note_for(Port port, Transport transport) {
  const auto t = static_cast<std::uint8_t>(transport);
  // Notes are sorted by (transport, first) and do not overlap within a transport.
  const Note* end = std::end(kNotes);
  const Note* it = std::upper_bound(std::begin(kNotes), end, std::pair{t, port},
                                    [](const auto& key, const Note& n) {
                                      return key < std::pair{n.transport, n.first};
                                    });
  if (it == std::begin(kNotes)) return nullptr;
  --it;
  return it->transport == t && it->first <= port && port <= it->last ? it : nullptr;
}

std::size_t source_pairs() { return kSourcePairs; }

int icompare(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(fold(a[i]));
    const auto y = static_cast<unsigned char>(fold(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : a.size() < b.size() ? -1 : 1;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool contains_word_start(std::string_view text, std::string_view word) {
  if (word.empty() || text.size() < word.size()) return false;
  auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (i > 0 && alnum(text[i - 1])) continue;
    if (iequals(text.substr(i, word.size()), word)) return true;
  }
  return false;
}

}  // namespace sockscope::registry
