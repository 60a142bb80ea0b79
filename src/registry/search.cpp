// Registry::search (keyword, ranked) and Registry::by_range: the lookups that
// walk many records rather than one index entry.
#include <algorithm>
#include <tuple>

#include "registry/table.hpp"
#include "sockscope/registry.hpp"

namespace sockscope {

using registry::contains_word_start;
using registry::iequals;
using registry::istarts_with;

std::string_view to_string(SearchRank rank) {
  switch (rank) {
    case SearchRank::kExactName: return "exact-name";
    case SearchRank::kNamePrefix: return "name-prefix";
    case SearchRank::kNameWord: return "name-word";
    case SearchRank::kDescriptionWord: return "description-word";
  }
  return "?";
}

namespace {

std::optional<SearchRank> rank_of(std::string_view name, std::string_view description,
                                  std::string_view query) {
  if (iequals(name, query)) return SearchRank::kExactName;
  if (istarts_with(name, query)) return SearchRank::kNamePrefix;
  if (contains_word_start(name, query)) return SearchRank::kNameWord;
  if (contains_word_start(description, query)) return SearchRank::kDescriptionWord;
  return std::nullopt;
}

}  // namespace

std::vector<SearchHit> Registry::search(std::string_view query) const {
  std::vector<SearchHit> hits;
  if (query.empty()) return hits;
  for (std::size_t i = 0; i < local_size(); ++i) {
    const Service& s = local_service(i);
    if (s.is_local()) {  // IANA duplicates are found below, once
      if (auto rank = rank_of(s.name, s.description, query)) hits.push_back({&s, *rank});
    }
  }
  // Match on the pool's strings; build Service objects only for hits.
  for (std::size_t i = 0; i < registry::record_count(); ++i) {
    const registry::Record& r = registry::record(i);
    auto rank = rank_of(registry::pool_string(r.name), registry::pool_string(r.description), query);
    if (rank) hits.push_back({&registry::service(i), *rank});
  }
  for (const Service& s : common_names()) {
    auto rank = rank_of(s.name, s.description, query);
    if (!rank) continue;
    hits.push_back({&s, *rank});
    // "dns" is what people call IANA's "domain": its rows come with it.
    if (*rank == SearchRank::kExactName) {
      for (const Service* target : by_name(s.alias_of)) {
        const bool seen = std::any_of(hits.begin(), hits.end(),
                                      [&](const SearchHit& h) { return h.service == target; });
        if (!seen) hits.push_back({target, *rank});
      }
    }
  }
  // Best rank first; then by name, port, transport; local before IANA on ties.
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (int c = registry::icompare(a.service->name, b.service->name); c != 0) return c < 0;
    return std::tuple(a.service->ports.first, a.service->transport) <
           std::tuple(b.service->ports.first, b.service->transport);
  });
  return hits;
}

std::vector<const Service*> Registry::by_range(PortRange range,
                                               std::optional<Transport> transport) const {
  std::vector<const Service*> out;
  std::vector<Transport> transports;
  if (transport) {
    transports.push_back(*transport);
  } else {
    transports = {Transport::kTcp, Transport::kUdp, Transport::kSctp, Transport::kDccp};
  }
  std::vector<bool> seen_record(registry::record_count());
  const bool has_local = local_size() > 0;
  for (std::uint32_t p = range.first; p <= range.last; ++p) {
    for (Transport t : transports) {
      const auto port = static_cast<Port>(p);
      if (!has_local && registry::port_records(port, t).empty()) continue;
      for (const Service* s : by_port(port, t)) {
        if (s->is_local()) {
          if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
          continue;
        }
        const std::size_t index = registry::service_index(*s);
        if (!seen_record[index]) {
          seen_record[index] = true;
          out.push_back(s);
        }
      }
    }
  }
  return out;
}

}  // namespace sockscope
