#include "ipfix/decoder.hpp"

#include <string>

namespace sockscope::ipfix {
namespace {

std::uint16_t get16(const std::uint8_t* p) { return std::uint16_t(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t(get16(p)) << 16 | get16(p + 2); }

Error bad(std::string what, std::size_t offset) {
  return Error::at(Error::Code::kBadSyntax, "IPFIX " + what + " at byte " + std::to_string(offset),
                   0);
}

}  // namespace

std::uint64_t DecodedRecord::get(std::uint16_t ie, std::uint32_t enterprise) const {
  const auto it = fields.find({enterprise, ie});
  return it == fields.end() ? 0 : it->second.value;
}

bool DecodedRecord::has(std::uint16_t ie, std::uint32_t enterprise) const {
  return fields.contains({enterprise, ie});
}

std::expected<std::size_t, Error> Decoder::template_set(std::uint32_t domain,
                                                        std::span<const std::uint8_t> set,
                                                        std::size_t offset) {
  std::size_t at = 0, count = 0;
  while (set.size() - at >= 4) {
    const std::uint16_t id = get16(&set[at]), n = get16(&set[at + 2]);
    if (id < 256) return std::unexpected(bad("template id below 256", offset + at));
    at += 4;
    std::vector<Spec> specs;
    for (std::uint16_t i = 0; i < n; ++i) {
      if (set.size() - at < 4) return std::unexpected(bad("field spec cut short", offset + at));
      Spec s{std::uint16_t(get16(&set[at]) & 0x7fff), get16(&set[at + 2]), 0};
      const bool enterprise = set[at] & 0x80;
      at += 4;
      if (enterprise) {
        if (set.size() - at < 4) return std::unexpected(bad("enterprise cut short", offset + at));
        s.enterprise = get32(&set[at]);
        at += 4;
      }
      if (s.length == 0xffff || s.length == 0) {
        return std::unexpected(bad("variable or zero field length", offset + at));
      }
      specs.push_back(s);
    }
    templates_[{domain, id}] = std::move(specs);
    ++count;
  }
  return count;
}

std::expected<std::size_t, Error> Decoder::data_set(std::uint32_t domain, std::uint16_t id,
                                                    std::span<const std::uint8_t> set,
                                                    std::size_t offset) {
  const auto t = templates_.find({domain, id});
  if (t == templates_.end()) return std::unexpected(bad("data set of unknown template", offset));
  std::size_t size = 0;
  for (const Spec& s : t->second) size += s.length;
  if (size == 0) return std::unexpected(bad("data set of an empty template", offset));
  std::size_t at = 0, count = 0;
  // What is left after the last whole record is padding (RFC 7011 s.3.3.1).
  while (set.size() - at >= size) {
    DecodedRecord r{domain, id, {}};
    for (const Spec& s : t->second) {
      DecodedField f;
      f.bytes.assign(set.begin() + at, set.begin() + at + s.length);
      if (s.length <= 8) {
        for (std::uint8_t b : f.bytes) f.value = f.value << 8 | b;
      }
      r.fields[{s.enterprise, s.ie}] = std::move(f);
      at += s.length;
    }
    records.push_back(std::move(r));
    ++count;
  }
  return count;
}

std::expected<std::vector<DecodedMessage>, Error> Decoder::decode(
    std::span<const std::uint8_t> bytes) {
  std::vector<DecodedMessage> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 16) return std::unexpected(bad("message header cut short", at));
    const std::uint8_t* h = &bytes[at];
    DecodedMessage m{get16(h + 2), get32(h + 4), get32(h + 8), get32(h + 12), 0, 0};
    if (get16(h) != 10) return std::unexpected(bad("version is not 10", at));
    if (m.length < 16 || m.length > bytes.size() - at) {
      return std::unexpected(bad("message length out of range", at));
    }
    for (std::size_t s = at + 16; s < at + m.length;) {
      if (at + m.length - s < 4) return std::unexpected(bad("set header cut short", s));
      const std::uint16_t id = get16(&bytes[s]), len = get16(&bytes[s + 2]);
      if (len < 4 || len > at + m.length - s) return std::unexpected(bad("set length", s));
      const auto body = bytes.subspan(s + 4, len - 4);
      if (id == 2) {
        auto n = template_set(m.domain, body, s + 4);
        if (!n) return std::unexpected(n.error());
        m.templates += *n;
      } else if (id >= 256) {
        auto n = data_set(m.domain, id, body, s + 4);
        if (!n) return std::unexpected(n.error());
        m.records += *n;
      } else if (id != 3) {
        return std::unexpected(bad("reserved set id", s));
      }
      s += len;
    }
    out.push_back(m);
    at += m.length;
  }
  return out;
}

}  // namespace sockscope::ipfix
