// Local services(5) labels; see local_labels.hpp.
#include "registry/local_labels.hpp"

#include <algorithm>

#include "registry/table.hpp"

namespace sockscope::registry {

template <class Same>
void ChainIndex::add(std::uint32_t hash, std::uint32_t label, std::vector<std::uint32_t>& next,
                     Same same) {
  if (next.size() <= label) next.resize(label + 1, kEnd);
  if ((chains_.size() + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t s = mix(hash) & mask;
  for (; slots_[s] != 0; s = (s + 1) & mask) {
    Chain& c = chains_[slots_[s] - 1];
    if (c.hash == hash && same(c.head)) {
      next[c.tail] = label;
      c.tail = label;
      return;
    }
  }
  chains_.push_back({hash, label, label});
  slots_[s] = std::uint32_t(chains_.size());
}

void ChainIndex::grow() {
  slots_.assign(std::max<std::size_t>(64, slots_.size() * 2), 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::uint32_t i = 0; i < chains_.size(); ++i) {
    std::size_t s = mix(chains_[i].hash) & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = i + 1;
  }
}

const NameIndex::Entry* NameIndex::find(std::string_view name, std::uint32_t hash) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t s = hash & mask; !slots_[s].name.empty(); s = (s + 1) & mask) {
    if (slots_[s].hash == hash && iequals(slots_[s].name, name)) return &slots_[s];
  }
  return nullptr;
}

void NameIndex::add(std::string_view name, std::uint32_t hash, Transport t, std::uint32_t label,
                    std::vector<std::uint32_t>& next) {
  if (next.size() <= label) next.resize(label + 1, kEnd);
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t s = hash & mask;
  while (!slots_[s].name.empty() && !(slots_[s].hash == hash && iequals(slots_[s].name, name))) {
    s = (s + 1) & mask;
  }
  Entry& e = slots_[s];
  if (e.name.empty()) {
    e.hash = hash;
    e.name = name;
    e.head = label;
    ++used_;
  } else {
    next[e.tail] = label;
  }
  e.tail = label;
  const auto ti = static_cast<std::size_t>(t);
  if (ti < 4 && e.by_transport[ti] == kEnd) e.by_transport[ti] = label;
}

void NameIndex::grow() {
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(std::max<std::size_t>(64, old.size() * 2), Entry{});
  const std::size_t mask = slots_.size() - 1;
  for (Entry& e : old) {
    if (e.name.empty()) continue;
    std::size_t s = e.hash & mask;
    while (!slots_[s].name.empty()) s = (s + 1) & mask;
    slots_[s] = e;
  }
}

void LocalLabels::make(std::string_view name, PortRange ports, Transport transport,
                       std::string_view comment, std::string_view alias_of,
                       std::string_view source) {
  const auto index = static_cast<std::uint32_t>(labels_.size());
  Service s;
  s.name = name;
  s.ports = ports;
  s.transport = transport;
  s.description = comment;
  s.alias_of = alias_of;
  s.source = source;
  const Service* local = &services_.emplace_back(s);
  labels_.push_back({local, local->is_alias(), transport, ports});
  if (indexed_.load(std::memory_order_relaxed)) index_label(index);
}

std::int32_t LocalLabels::resolve_iana_record(std::size_t index) const {
  const Label& l = labels_[index];
  std::int32_t r = -1;
  for (std::uint16_t i : port_records(l.ports.first, l.transport)) {
    const Record& rec = record(i);
    if (rec.first == l.ports.first && rec.last == l.ports.last &&
        iequals(pool_string(rec.name), l.local->name)) {
      r = i;
      break;
    }
  }
  iana_[index].store(r, std::memory_order_relaxed);
  return r;
}

void LocalLabels::index_label(std::uint32_t index) const {
  const Label& l = labels_[index];
  const std::string_view name = l.local->name;
  if (l.ports.first == l.ports.last) {
    by_port_.add(port_key(l.ports.first, l.transport), index, next_port_,
                 [](std::uint32_t) { return true; });  // the hash is the key
  } else {
    ranges_.push_back(index);
    next_port_.resize(labels_.size(), kEnd);
  }
  by_name_.add(name, name_hash(name), l.transport, index, next_name_);
}

std::vector<ServicesWarning> LocalLabels::add(std::string text, std::string_view source_text) {
  // The labels' strings are views into the kept text.
  const std::string& kept = keep(std::move(text));
  const std::string& source = keep(std::string(source_text));
  // Streamed: no vector of parsed lines (it was the largest allocation of a run).
  std::vector<ServicesWarning> warnings =
      parse_services(kept, source, [&](const ServicesLine& line) {
        for (Transport t : line.transports) {
          make(line.name, line.ports, t, line.comment, {}, source);
          for (std::string_view alias : line.aliases) {
            make(alias, line.ports, t, line.comment, line.name, source);
          }
        }
      });
  // Resolutions are pure, so forgetting earlier ones is harmless; loading is
  // never concurrent with lookups (Registry's contract). Indexes, once built,
  // took the new labels in make().
  iana_ = std::make_unique<std::atomic<std::int32_t>[]>(labels_.size());
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    iana_[i].store(kUnresolved, std::memory_order_relaxed);
  }
  return warnings;
}

bool LocalLabels::count_lookup() const {
  if (lookups_.fetch_add(1, std::memory_order_relaxed) + 1 < kIndexAfter) return false;
  std::call_once(index_once_, [this] {
    for (std::uint32_t i = 0; i < labels_.size(); ++i) index_label(i);
    indexed_.store(true, std::memory_order_release);
  });
  return true;
}

// Each lookup has two paths with the same answer: the indexes, or a scan of
// the labels in load order (which is the order the chains keep).

void LocalLabels::at_port(Port port, Transport transport, std::vector<std::uint32_t>& out) const {
  out.clear();
  if (!indexed()) {
    for (std::uint32_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i].transport == transport && labels_[i].ports.contains(port)) out.push_back(i);
    }
    return;
  }
  for (std::uint32_t i =
           by_port_.head(port_key(port, transport), [](std::uint32_t) { return true; });
       i != kEnd; i = next_port_[i]) {
    out.push_back(i);
  }
  bool merged = false;
  for (std::uint32_t index : ranges_) {
    const Label& l = labels_[index];
    if (l.transport == transport && l.ports.contains(port)) {
      out.push_back(index);
      merged = true;
    }
  }
  if (merged) std::sort(out.begin(), out.end());
}

const Service* LocalLabels::primary(Port port, Transport transport) const {
  if (!indexed()) {
    for (std::uint32_t i = 0; i < labels_.size(); ++i) {
      const Label& l = labels_[i];
      if (l.transport == transport && l.ports.contains(port) && !is_alias(i)) return &label(i);
    }
    return nullptr;
  }
  std::uint32_t best = kEnd;
  for (std::uint32_t i =
           by_port_.head(port_key(port, transport), [](std::uint32_t) { return true; });
       i != kEnd; i = next_port_[i]) {
    if (!is_alias(i)) {
      best = i;
      break;
    }
  }
  for (std::uint32_t index : ranges_) {  // an earlier range label wins
    const Label& l = labels_[index];
    if (index < best && l.transport == transport && l.ports.contains(port) && !is_alias(index)) {
      best = index;
    }
  }
  return best == kEnd ? nullptr : &label(best);
}

std::uint32_t LocalLabels::first_named(std::string_view name, std::uint32_t hash) const {
  if (!indexed()) {
    for (std::uint32_t i = 0; i < labels_.size(); ++i) {
      if (iequals(labels_[i].local->name, name)) return i;
    }
    return kEnd;
  }
  const NameIndex::Entry* e = by_name_.find(name, hash);
  return e ? e->head : kEnd;
}

std::uint32_t LocalLabels::next_named(std::uint32_t label) const {
  // A continuation, not a lookup: whichever path is ready gives the same chain.
  if (indexed_.load(std::memory_order_acquire)) return next_name_[label];
  const std::string_view name = labels_[label].local->name;
  for (std::uint32_t i = label + 1; i < labels_.size(); ++i) {
    if (iequals(labels_[i].local->name, name)) return i;
  }
  return kEnd;
}

const Service* LocalLabels::find_scanning(std::string_view name, Transport transport) const {
  for (std::uint32_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i].transport == transport && iequals(labels_[i].local->name, name)) {
      return &label(i);
    }
  }
  return nullptr;
}

}  // namespace sockscope::registry
