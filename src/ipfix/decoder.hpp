// A small IPFIX decoder (RFC 7011): messages, template sets and data sets with
// fixed-length fields. Internal: the tests read what the encoder wrote with it
// (beside the real collectors), and it is fuzzed. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "sockscope/error.hpp"

namespace sockscope::ipfix {

struct DecodedMessage {
  std::uint16_t length = 0;
  std::uint32_t export_time = 0, sequence = 0, domain = 0;
  std::size_t templates = 0, records = 0;  // template and data records in it
};

// A data record's fields by (enterprise, element): the value as an unsigned number
// (fields of 1 to 8 bytes) and the raw bytes.
struct DecodedField {
  std::uint64_t value = 0;
  std::vector<std::uint8_t> bytes;
};
struct DecodedRecord {
  std::uint32_t domain = 0;
  std::uint16_t template_id = 0;
  std::map<std::pair<std::uint32_t, std::uint16_t>, DecodedField> fields;
  std::uint64_t get(std::uint16_t ie, std::uint32_t enterprise = 0) const;
  bool has(std::uint16_t ie, std::uint32_t enterprise = 0) const;
};

// Decodes a stream of messages (a UDP datagram, a TCP stream or an IPFIX file),
// keeping templates per observation domain across calls.
class Decoder {
 public:
  // Every message in `bytes`; an error names the offset and what is wrong (a data
  // set for an unknown template is an error too).
  std::expected<std::vector<DecodedMessage>, Error> decode(std::span<const std::uint8_t> bytes);
  std::vector<DecodedRecord> records;

 private:
  struct Spec {
    std::uint16_t ie, length;
    std::uint32_t enterprise;
  };
  std::expected<std::size_t, Error> template_set(std::uint32_t domain,
                                                 std::span<const std::uint8_t> set,
                                                 std::size_t offset);
  std::expected<std::size_t, Error> data_set(std::uint32_t domain, std::uint16_t id,
                                             std::span<const std::uint8_t> set, std::size_t offset);
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::vector<Spec>> templates_;
};

}  // namespace sockscope::ipfix
