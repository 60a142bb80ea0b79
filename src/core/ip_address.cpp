// IpAddress parsing and RFC 5952 formatting.
#include "sockscope/ip_address.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/text.hpp"

namespace sockscope {
namespace {

using Code = Error::Code;

struct ZoneTable {
  std::mutex mu;
  std::deque<std::string> names;  // id = index + 1; deque keeps references stable
  std::unordered_map<std::string, std::uint32_t> ids;
};

ZoneTable& zones() {
  static ZoneTable* table = new ZoneTable;  // never destroyed: used from static dtors
  return *table;
}

// The id of a zone name ("eth0" or "3"), never 0; process-wide, so that addresses
// stay trivially copyable.
std::uint32_t intern_zone(std::string_view name) {
  ZoneTable& t = zones();
  std::lock_guard lock(t.mu);
  auto [it, inserted] = t.ids.try_emplace(std::string(name), 0);
  if (inserted) {
    t.names.emplace_back(name);
    it->second = static_cast<std::uint32_t>(t.names.size());
  }
  return it->second;
}

// Hex digit values; 0xff for anything else. One load per character keeps the
// IPv6 scanner free of unpredictable branches.
constexpr std::array<std::uint8_t, 256> kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xff);
  for (int c = 0; c < 10; ++c) t['0' + c] = std::uint8_t(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = std::uint8_t(10 + c);
  return t;
}();
bool is_zone_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-' || c == '.' || c == '@';
}

// The common case, without error reporting: exactly four decimal octets
// 0-255 without leading zeros. Returns false on anything else (the careful
// parser below then says what is wrong).
bool fast_dotted_quad(std::string_view text, std::uint8_t* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  for (int octet = 0; octet < 4; ++octet) {
    if (p == end) return false;
    unsigned v = unsigned(*p) - '0';
    if (v > 9) return false;
    ++p;
    if (p != end && unsigned(*p) - '0' <= 9) {
      if (v == 0) return false;
      v = v * 10 + (unsigned(*p++) - '0');
      if (p != end && unsigned(*p) - '0' <= 9) {
        v = v * 10 + (unsigned(*p++) - '0');
        if (v > 255 || (p != end && unsigned(*p) - '0' <= 9)) return false;
      }
    }
    out[octet] = std::uint8_t(v);
    if (octet < 3) {
      if (p == end || *p != '.') return false;
      ++p;
    }
  }
  return p == end;
}

// Parses a dotted quad into out[0..3]. `base` is the 1-based column of text[0].
std::expected<void, Error> parse_dotted_quad(std::string_view text, std::size_t base,
                                             std::uint8_t* out) {
  if (fast_dotted_quad(text, out)) return {};
  std::size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size()) {
        return std::unexpected(
            Error::at(Code::kBadAddress, "IPv4 address needs 4 octets", base + i, text));
      }
      if (text[i] != '.') {
        return std::unexpected(Error::at(Code::kBadAddress, "unexpected character in IPv4 address",
                                         base + i, text::char_at(text, i)));
      }
      ++i;
    }
    std::size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 4) {
      value = value * 10 + unsigned(text[i] - '0');
      ++i;
    }
    std::size_t len = i - start;
    if (len == 0) {
      if (i < text.size() && text[i] != '.') {
        return std::unexpected(Error::at(Code::kBadAddress, "unexpected character in IPv4 address",
                                         base + i, text::char_at(text, i)));
      }
      return std::unexpected(
          Error::at(Code::kBadAddress, "empty octet in IPv4 address", base + i, text));
    }
    if (len > 1 && text[start] == '0') {
      return std::unexpected(Error::at(Code::kLeadingZero, "leading zero in IPv4 octet",
                                       base + start, text.substr(start, len)));
    }
    if (len > 3 || value > 255) {
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      return std::unexpected(Error::at(Code::kOutOfRange, "IPv4 octet out of range 0-255",
                                       base + start, text.substr(start, i - start)));
    }
    out[octet] = static_cast<std::uint8_t>(value);
  }
  if (i != text.size()) {
    return std::unexpected(Error::at(Code::kTrailingGarbage,
                                     "unexpected character after IPv4 address", base + i,
                                     text.substr(i)));
  }
  return {};
}

// Strips "%zone" from `text` and interns the zone's name; 0 when there is none.
std::expected<std::uint32_t, Error> parse_zone(std::string_view& text, std::size_t base) {
  const auto pct = text.find('%');
  if (pct == std::string_view::npos) return 0;
  const std::string_view name = text.substr(pct + 1);
  if (name.empty()) {
    return std::unexpected(
        Error::at(Code::kBadAddress, "empty IPv6 zone after '%'", base + pct, "%"));
  }
  if (name.size() > IpAddress::kMaxZoneSize) {
    return std::unexpected(
        Error::at(Code::kBadAddress, "IPv6 zone name too long", base + pct + 1, name));
  }
  for (std::size_t k = 0; k < name.size(); ++k) {
    if (!is_zone_char(name[k])) {
      return std::unexpected(Error::at(Code::kBadAddress, "unexpected character in IPv6 zone",
                                       base + pct + 1 + k, text::char_at(name, k)));
    }
  }
  text = text.substr(0, pct);
  return intern_zone(name);
}

// The groups of an IPv6 address as written: up to 8, and where "::" stands.
struct Groups {
  std::uint16_t value[8] = {};
  int count = 0;    // groups written
  int gap_at = -1;  // index in value[] where "::" stands
};

// After one group at `start` whose hex digits end at `i`: an embedded dotted quad
// (the last two groups) when a '.' follows. Returns true when it was one.
std::expected<bool, Error> take_dotted_quad(std::string_view text, std::size_t base,
                                            std::size_t start, std::size_t i, Groups& g) {
  if (i >= text.size() || text[i] != '.') return false;
  // Embedded dotted quad: must be last and leave room for 2 groups.
  if (g.count > 6 || (g.gap_at >= 0 && g.count > 5)) {
    return std::unexpected(Error::at(Code::kBadAddress, "too many groups in IPv6 address",
                                     base + start, text.substr(start)));
  }
  std::uint8_t quad[4];
  if (auto r = parse_dotted_quad(text.substr(start), base + start, quad); !r) {
    return std::unexpected(r.error());
  }
  g.value[g.count++] = std::uint16_t(quad[0] << 8 | quad[1]);
  g.value[g.count++] = std::uint16_t(quad[2] << 8 | quad[3]);
  return true;
}

// Reads the hex groups, ':' and "::" of `text` (the zone already gone).
std::expected<Groups, Error> parse_groups(std::string_view text, std::size_t base) {
  Groups g;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n >= 2 && text[0] == ':' && text[1] == ':') {
    g.gap_at = 0;
    i = 2;
  } else if (n >= 1 && text[0] == ':') {
    return std::unexpected(
        Error::at(Code::kBadAddress, "IPv6 address cannot start with a single ':'", base, ":"));
  }
  auto bad = [&](std::string_view what, std::size_t at, std::string_view fragment) {
    return std::unexpected(Error::at(Code::kBadAddress, std::string(what), base + at, fragment));
  };
  while (i < n) {
    const std::size_t start = i;
    unsigned value = 0;
    while (i < n) {
      const std::uint8_t digit = kHexValue[static_cast<unsigned char>(text[i])];
      if (digit > 15) break;
      value = value << 4 | digit;
      ++i;
    }
    const std::size_t len = i - start;
    auto quad = take_dotted_quad(text, base, start, i, g);
    if (!quad) return std::unexpected(quad.error());
    if (*quad) return g;
    if (len == 0) {
      if (i < n) return bad("unexpected character in IPv6 address", i, text.substr(i, 1));
      return bad("IPv6 address ends with ':'", i - 1, ":");
    }
    if (len > 4) {
      return bad("IPv6 group longer than 4 hex digits", start, text.substr(start, len));
    }
    if (g.count == 8) return bad("too many groups in IPv6 address", start, text.substr(start));
    g.value[g.count++] = static_cast<std::uint16_t>(value);
    if (i == n) break;
    if (text[i] != ':') return bad("unexpected character in IPv6 address", i, text.substr(i, 1));
    ++i;
    if (i < n && text[i] == ':') {
      if (g.gap_at >= 0) return bad("'::' may appear only once in an IPv6 address", i - 1, "::");
      g.gap_at = g.count;
      ++i;
    } else if (i == n) {
      return bad("IPv6 address ends with ':'", i - 1, ":");
    }
  }
  return g;
}

std::expected<IpAddress, Error> parse_v6(std::string_view text, std::size_t base) {
  auto zone = parse_zone(text, base);
  if (!zone) return std::unexpected(zone.error());
  auto g = parse_groups(text, base);
  if (!g) return std::unexpected(g.error());
  if (g->gap_at < 0 && g->count != 8) {
    return std::unexpected(
        Error::at(Code::kBadAddress, "IPv6 address needs 8 groups or '::'", base, text));
  }
  if (g->gap_at >= 0 && g->count > 7) {
    return std::unexpected(
        Error::at(Code::kBadAddress, "too many groups in IPv6 address", base, text));
  }
  // The groups after "::" go to the end; the gap is zeros.
  std::uint16_t full[8] = {};
  const int head = g->gap_at < 0 ? g->count : g->gap_at;
  std::copy(g->value, g->value + head, full);
  std::copy(g->value + head, g->value + g->count, full + 8 - (g->count - head));
  std::uint8_t bytes[16];
  for (int k = 0; k < 8; ++k) {
    bytes[2 * k] = std::uint8_t(full[k] >> 8);
    bytes[2 * k + 1] = std::uint8_t(full[k]);
  }
  return IpAddress::v6_bytes(bytes, *zone);
}

}  // namespace

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.bytes_[0] = std::uint8_t(host_order >> 24);
  a.bytes_[1] = std::uint8_t(host_order >> 16);
  a.bytes_[2] = std::uint8_t(host_order >> 8);
  a.bytes_[3] = std::uint8_t(host_order);
  return a;
}

IpAddress IpAddress::v4_bytes(const std::uint8_t* network_order) {
  IpAddress a;
  std::memcpy(a.bytes_.data(), network_order, 4);
  return a;
}

IpAddress IpAddress::v6_bytes(const std::uint8_t* network_order, std::uint32_t zone_id) {
  IpAddress a;
  std::memcpy(a.bytes_.data(), network_order, 16);
  a.family_ = Family::kV6;
  a.zone_ = zone_id;
  return a;
}

std::expected<IpAddress, Error> IpAddress::parse(std::string_view text, std::size_t column_offset) {
  const std::size_t base = column_offset + 1;
  if (text.empty()) {
    return std::unexpected(Error::at(Code::kEmpty, "empty address", column_offset ? base : 0));
  }
  if (text.find(':') != std::string_view::npos) return parse_v6(text, base);
  return parse_v4(text, column_offset);
}

std::expected<IpAddress, Error> IpAddress::parse_v4(std::string_view text,
                                                    std::size_t column_offset) {
  const std::size_t base = column_offset + 1;
  if (text.empty()) {
    return std::unexpected(Error::at(Code::kEmpty, "empty address", column_offset ? base : 0));
  }
  if (!(text[0] >= '0' && text[0] <= '9')) {
    return std::unexpected(
        Error::at(Code::kBadAddress, "expected an IPv4 or IPv6 address", base, text));
  }
  std::uint8_t quad[4];
  if (auto r = parse_dotted_quad(text, base, quad); !r) {
    if (auto pct = text.find('%'); pct != std::string_view::npos) {
      return std::unexpected(Error::at(Code::kBadAddress, "a zone is allowed only on IPv6",
                                       base + pct, text.substr(pct)));
    }
    return std::unexpected(r.error());
  }
  return IpAddress::v4_bytes(quad);
}

std::uint32_t IpAddress::v4_value() const {
  return std::uint32_t(bytes_[0]) << 24 | std::uint32_t(bytes_[1]) << 16 |
         std::uint32_t(bytes_[2]) << 8 | bytes_[3];
}

std::string_view IpAddress::zone() const {
  if (zone_ == 0) return {};
  ZoneTable& t = zones();
  std::lock_guard lock(t.mu);
  return t.names[zone_ - 1];
}

IpAddress IpAddress::with_zone(std::string_view name) const {
  IpAddress a = *this;
  if (is_v6() && !name.empty()) a.zone_ = intern_zone(name);
  return a;
}

IpAddress IpAddress::without_zone() const {
  IpAddress a = *this;
  a.zone_ = 0;
  return a;
}

bool IpAddress::is_unspecified() const {
  for (std::uint8_t b : bytes()) {
    if (b != 0) return false;
  }
  return true;
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (int k = 0; k < 15; ++k) {
    if (bytes_[k] != 0) return false;
  }
  return bytes_[15] == 1;
}

bool IpAddress::is_v4_mapped() const {
  if (!is_v6()) return false;
  for (int k = 0; k < 10; ++k) {
    if (bytes_[k] != 0) return false;
  }
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddress IpAddress::unmapped() const {
  return is_v4_mapped() ? v4_bytes(bytes_.data() + 12) : *this;
}

std::size_t IpAddress::format(char* out) const {
  char* p = out;
  if (is_v4()) {
    p = text::write_dotted_quad(p, bytes_.data());
    return std::size_t(p - out);
  }
  std::uint16_t g[8];
  for (int k = 0; k < 8; ++k) g[k] = std::uint16_t(bytes_[2 * k] << 8 | bytes_[2 * k + 1]);
  const bool mapped = is_v4_mapped();
  const int hex_groups = mapped ? 6 : 8;
  // RFC 5952 4.2: the longest run (>= 2) of zero groups, the first of equal runs.
  int best = -1, best_len = 0;
  for (int k = 0; k < hex_groups;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int start = k;
    while (k < hex_groups && g[k] == 0) ++k;
    if (k - start > best_len) {
      best = start;
      best_len = k - start;
    }
  }
  if (best_len < 2) best = -1;
  for (int k = 0; k < hex_groups;) {
    if (k == best) {
      *p++ = ':';
      *p++ = ':';
      k += best_len;
      continue;
    }
    if (k != 0 && k != best + best_len) *p++ = ':';
    p = text::write_hex16(p, g[k]);
    ++k;
  }
  if (mapped) {
    if (p[-1] != ':') *p++ = ':';
    p = text::write_dotted_quad(p, bytes_.data() + 12);
  }
  if (zone_ != 0) {
    std::string_view z = zone();
    *p++ = '%';
    std::memcpy(p, z.data(), z.size());
    p += z.size();
  }
  return std::size_t(p - out);
}

std::string IpAddress::to_string() const {
  char buf[kMaxTextSize];
  return std::string(buf, format(buf));
}

std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
  if (auto c = a.family_ <=> b.family_; c != 0) return c;
  if (int c = std::memcmp(a.bytes_.data(), b.bytes_.data(), 16); c != 0) {
    return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return a.zone_ <=> b.zone_;
}

std::expected<IpPrefix, Error> IpPrefix::parse(std::string_view text) {
  IpPrefix prefix;
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::unexpected(address.error());
  prefix.address_ = *address;
  const unsigned max = address->is_v4() ? 32 : 128;
  prefix.length_ = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto len = text::parse_decimal(digits, max, slash + 2, "prefix length");
    if (!len) return std::unexpected(len.error());
    prefix.length_ = *len;
  }
  return prefix;
}

bool IpPrefix::contains(const IpAddress& candidate) const {
  IpAddress a = candidate.unmapped();
  if (a.family() != address_.family()) return false;
  auto want = address_.bytes();
  auto have = a.bytes();
  unsigned full = length_ / 8, rest = length_ % 8;
  if (std::memcmp(want.data(), have.data(), full) != 0) return false;
  if (rest == 0) return true;
  std::uint8_t mask = std::uint8_t(0xff << (8 - rest));
  return (want[full] & mask) == (have[full] & mask);
}

std::string IpPrefix::to_string() const {
  return address_.to_string() + "/" + std::to_string(length_);
}

}  // namespace sockscope
