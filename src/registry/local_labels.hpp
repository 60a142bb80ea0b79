// Labels from services(5) files, owned by one Registry and indexed by port and
// by name in small open-addressing tables (no allocation per lookup), built
// when lookups become many. Internal to src/registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "registry/services_parser.hpp"
#include "registry/table.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::registry {

// Hash -> chain of label indices in insertion order. The caller's `same`
// predicate tells keys that share a hash apart.
class ChainIndex {
 public:
  static constexpr std::uint32_t kEnd = 0xFFFFFFFFu;

  // First label of the chain for `hash` whose key satisfies same(label), or kEnd.
  template <class Same>
  std::uint32_t head(std::uint32_t hash, Same same) const {
    if (slots_.empty()) return kEnd;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t s = mix(hash) & mask; slots_[s] != 0; s = (s + 1) & mask) {
      const Chain& c = chains_[slots_[s] - 1];
      if (c.hash == hash && same(c.head)) return c.head;
    }
    return kEnd;
  }
  // Appends `label` to its chain; next[] links the chain (one entry per label).
  template <class Same>
  void add(std::uint32_t hash, std::uint32_t label, std::vector<std::uint32_t>& next, Same same);

 private:
  struct Chain {
    std::uint32_t hash, head, tail;
  };
  static std::size_t mix(std::uint32_t h) { return std::size_t(h) * 0x9E3779B97F4A7C15ull >> 32; }
  void grow();
  std::vector<std::uint32_t> slots_;  // chain index + 1; 0 = empty
  std::vector<Chain> chains_;
};

// Folded name -> its labels: a chain in load order and the first label per
// transport (what find() answers without walking the chain). Open addressing;
// entries live in the slots, so a lookup reads one slot and the name's bytes.
class NameIndex {
 public:
  static constexpr std::uint32_t kEnd = ChainIndex::kEnd;
  struct Entry {
    std::uint32_t hash = 0;
    std::string_view name;  // empty: free slot
    std::uint32_t head = kEnd, tail = kEnd;
    std::uint32_t by_transport[4] = {kEnd, kEnd, kEnd, kEnd};
  };
  const Entry* find(std::string_view name, std::uint32_t hash) const;
  // Adds label (named `name`, on transport t) to its entry; next[] links the chain.
  void add(std::string_view name, std::uint32_t hash, Transport t, std::uint32_t label,
           std::vector<std::uint32_t>& next);

 private:
  void grow();
  std::vector<Entry> slots_;
  std::size_t used_ = 0;
};

class LocalLabels {
 public:
  static constexpr std::uint32_t kEnd = ChainIndex::kEnd;

  // Keeps one services(5) text, parses it and adds its usable lines; `source`
  // names it. Returns the parser's warnings.
  std::vector<ServicesWarning> add(std::string text, std::string_view source);

  std::size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  // The label's Service: IANA's record (built on first use) when the label
  // repeats IANA's assignment (same name, ports and transport), else its own.
  const Service& label(std::size_t index) const {
    const std::int32_t r = iana_record(index);
    return r >= 0 ? service(std::size_t(r)) : *labels_[index].local;
  }
  bool is_alias(std::size_t index) const {
    const std::int32_t r = iana_record(index);
    return r >= 0 ? (record(std::size_t(r)).flags & kFlagAlias) != 0 : labels_[index].alias;
  }

  // Labels covering port/transport, in load order.
  void at_port(Port port, Transport transport, std::vector<std::uint32_t>& out) const;
  // The first non-alias label covering port/transport, or nullptr. No allocation.
  const Service* primary(Port port, Transport transport) const;
  // Labels named `name` (case-insensitive) as a chain: first() then next(); kEnd ends it.
  std::uint32_t first_named(std::string_view name, std::uint32_t hash) const;
  std::uint32_t next_named(std::uint32_t label) const;
  // The first label named `name` on `transport`, or nullptr. No allocation.
  const Service* find(std::string_view name, std::uint32_t hash, Transport transport) const {
    if (!indexed()) return find_scanning(name, transport);
    const NameIndex::Entry* e = by_name_.find(name, hash);
    const auto t = static_cast<std::size_t>(transport);
    if (!e || t >= 4 || e->by_transport[t] == kEnd) return nullptr;
    return &label(e->by_transport[t]);
  }

 private:
  static std::uint32_t port_key(Port port, Transport transport) {
    return std::uint32_t(transport) << 16 | port;
  }
  const std::string& keep(std::string text) { return strings_.emplace_back(std::move(text)); }
  // A label for name on ports/transport, as the file says it.
  void make(std::string_view name, PortRange ports, Transport transport, std::string_view comment,
            std::string_view alias_of, std::string_view source);
  // IANA's record for the label's assignment, or -1; found on first use.
  std::int32_t iana_record(std::size_t index) const {
    const std::int32_t r = iana_[index].load(std::memory_order_relaxed);
    return r != kUnresolved ? r : resolve_iana_record(index);
  }
  std::int32_t resolve_iana_record(std::size_t index) const;
  const Service* find_scanning(std::string_view name, Transport transport) const;

  // Adds label `index` to the port and name indexes.
  void index_label(std::uint32_t index) const;
  // Whether lookups go through the indexes. Counts the lookup and builds the
  // indexes (once, whichever reader gets there) on the kIndexAfter-th: a run
  // that asks about a few ports or names (`sockscope port 443`) scans the
  // labels instead, ~550 from /etc/services, and never allocates the indexes.
  bool indexed() const { return indexed_.load(std::memory_order_acquire) || count_lookup(); }
  bool count_lookup() const;  // false while scanning; builds the indexes when due
  static constexpr std::uint32_t kIndexAfter = 32;

  std::deque<std::string> strings_;  // deque: elements never move, views stay valid
  std::deque<Service> services_;
  // Whether a label repeats one of IANA's records is decided when a lookup
  // reaches the label, not at load: comparing /etc/services' ~500 labels with
  // IANA's records at load touched ~60 pages of scattered records (and their
  // names), which a run that looks up a few ports never needs.
  struct Label {
    const Service* local;  // the label as its file says it
    bool alias;            // as its file says it
    Transport transport;
    PortRange ports;
  };
  std::vector<Label> labels_;
  // Per label: kUnresolved, -1 (no IANA record) or IANA's record index. Atomic
  // so that concurrent readers may resolve (each stores the same value).
  static constexpr std::int32_t kUnresolved = -2;
  mutable std::unique_ptr<std::atomic<std::int32_t>[]> iana_;
  // The indexes: written once under index_once_ (or by add(), which is never
  // concurrent with lookups), read only after indexed_ is seen true.
  mutable std::atomic<std::uint32_t> lookups_{0};
  mutable std::atomic<bool> indexed_{false};
  mutable std::once_flag index_once_;
  mutable ChainIndex by_port_;  // single-port labels, key = port_key
  mutable std::vector<std::uint32_t> next_port_;
  mutable std::vector<std::uint32_t> ranges_;  // labels for a port range (rare): scanned
  mutable NameIndex by_name_;
  mutable std::vector<std::uint32_t> next_name_;
};

}  // namespace sockscope::registry
