// The record schema: every record kind sockscope prints (endpoint, socket pair,
// socket, conversation, ...) declares its fields once, here and in kinds/*.hpp:
// name, type, unit, table header, one line of meaning, and how a row's value is
// read. Every output format is a writer over these declarations (writer.hpp), in
// the spirit of ss's columns[]: a field has one name in JSON and CSV, an endpoint
// is an object in JSON and flattened as NAME_address, NAME_port, ... in CSV, and a
// new format is one new writer.
//
//   constexpr Field kFields[] = {
//       {.name = "transport", .type = Type::kString, .header = "TRANSPORT",
//        .meaning = "tcp, udp, ...",
//        .get = [](const void* row, Value& v) {
//        v.string(to_string(as<Conversation>(row).pair.transport)); }},
//       ...};
//   constexpr RecordKind kConversation{"conversation", kFields, "one conversation"};
//
// Getters take the row as `const void*` (as<Row>() casts it back) so that kinds of
// different row types can share one writer and nest (a socket's list of processes).
// Thread safety: declarations are constant data; a Value is one writer's scratch.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/endpoint.hpp"

namespace sockscope::output {

// How a value is written. Times and durations are integer nanoseconds and are
// written as seconds with microseconds (Zeek's convention), exactly.
enum class Type : std::uint8_t {
  kString,
  kCount,    // unsigned integer
  kInteger,  // signed integer
  kNumber,   // decimal number (Field::decimals places)
  kBool,
  kTime,      // nanoseconds since the Unix epoch
  kDuration,  // nanoseconds
  kAddress,   // IP address text
  kPort,      // port number
  kEndpoint,  // {"address", "port", "group"[, "ephemeral"]}
  kStrings,   // list of strings
  kRecords,   // list of records of a nested kind (e.g. processes)
  kCounts,    // object of name -> count (e.g. connections by state)
};

// What a number counts, for the schema's documentation and the table's display
// (bytes are shown as "26.3 kB", durations as "1.643s", percentages with "%").
enum class Unit : std::uint8_t {
  kNone,
  kBytes,
  kPackets,
  kSeconds,
  kPercent,
  kPorts,
  kSockets,
  kConnections,
  kConversations,
  kHosts,
  kProcesses,
  kMicroseconds,
  kMilliseconds,
  kSegments,
  kBytesPerSecond,
};

enum class Presence : std::uint8_t {
  kAlways,    // always written
  kNullable,  // may be null: JSON null, CSV empty, Zeek "-"
  kOptional,  // JSON leaves it out when null (absent); CSV empty, Zeek "-"
  kSparse,    // JSON leaves it out when 0 or false; CSV and Zeek write it
  kDisplay,   // tables only: a human rendering of other fields (e.g. "server (accepted)")
};

struct RecordKind;
struct Field;

class TableRow;  // table_store.hpp

struct StateCount {
  std::string_view name;  // "ESTAB"
  std::uint64_t count;
};

// One field's value for one row, filled by the field's getter.
class Value {
 public:
  enum class Tag : std::uint8_t {
    kNull,
    kString,
    kUnsigned,
    kSigned,
    kNumber,
    kBool,
    kEndpoint,
    kStrings,
    kRecords,
    kCounts
  };

  void null() { tag_ = Tag::kNull; }
  void string(std::string_view s) {
    tag_ = Tag::kString;
    s_ = s;
  }
  // A string the value keeps (a text made for this row).
  void owned(std::string s) {
    own_ = std::move(s);
    string(own_);
  }
  // The parts joined into the value's own storage (no allocation once it is warm:
  // this runs per row of tables with hundreds of thousands of rows).
  void joined(std::initializer_list<std::string_view> parts) {
    own_.clear();
    for (std::string_view p : parts) own_.append(p);
    string(own_);
  }
  // A string, or null when empty.
  void string_or_null(std::string_view s) {
    if (s.empty()) {
      null();
    } else {
      string(s);
    }
  }
  void count(std::uint64_t n) {
    tag_ = Tag::kUnsigned;
    u_ = n;
  }
  void integer(std::int64_t n) {
    tag_ = Tag::kSigned;
    i_ = n;
  }
  void number(double d) {
    tag_ = Tag::kNumber;
    d_ = d;
  }
  void boolean(bool b) {
    tag_ = Tag::kBool;
    b_ = b;
  }
  // The endpoint must outlive the writer's use of the value (the row's).
  void endpoint(const Endpoint& ep) {
    tag_ = Tag::kEndpoint;
    ep_ = &ep;
  }
  void strings(std::span<const std::string> list) {
    tag_ = Tag::kStrings;
    list_ = list;
  }
  // `n` records of `kind`, `stride` bytes apart from `first`.
  void records(const RecordKind& kind, const void* first, std::size_t n, std::size_t stride) {
    tag_ = Tag::kRecords;
    kind_ = &kind;
    items_ = first;
    n_ = n;
    stride_ = stride;
  }
  template <class T>
  void records(const RecordKind& kind, std::span<const T> items) {
    records(kind, items.data(), items.size(), sizeof(T));
  }
  void counts(std::span<const StateCount> counts) {
    tag_ = Tag::kCounts;
    counts_ = counts;
  }

  Tag tag() const { return tag_; }
  bool is_null() const { return tag_ == Tag::kNull; }
  std::string_view text() const { return s_; }
  std::uint64_t unsigned_value() const { return u_; }
  std::int64_t signed_value() const { return i_; }
  double number_value() const { return d_; }
  bool bool_value() const { return b_; }
  const Endpoint& endpoint_value() const { return *ep_; }
  std::span<const std::string> strings_value() const { return list_; }
  const RecordKind& record_kind() const { return *kind_; }
  std::size_t record_count() const { return n_; }
  const void* record(std::size_t i) const { return static_cast<const char*>(items_) + i * stride_; }
  std::span<const StateCount> counts_value() const { return counts_; }
  // Whether JSON leaves out a Presence::kSparse field with this value.
  bool is_zero() const {
    switch (tag_) {
      case Tag::kNull: return true;
      case Tag::kUnsigned: return u_ == 0;
      case Tag::kSigned: return i_ == 0;
      case Tag::kBool: return !b_;
      default: return false;
    }
  }

 private:
  Tag tag_ = Tag::kNull;
  bool b_ = false;
  std::string_view s_;
  std::string own_;
  std::uint64_t u_ = 0;
  std::int64_t i_ = 0;
  double d_ = 0;
  const Endpoint* ep_ = nullptr;
  std::span<const std::string> list_;
  const RecordKind* kind_ = nullptr;
  const void* items_ = nullptr;
  std::size_t n_ = 0, stride_ = 0;
  std::span<const StateCount> counts_;
};

enum class Align : std::uint8_t { kAuto, kLeft, kRight };

struct Field {
  std::string_view name;  // JSON key, CSV column (endpoints: NAME_address, ...)
  Type type = Type::kString;
  Unit unit = Unit::kNone;
  std::string_view header;   // table column; "" = not shown in tables
  std::string_view meaning;  // one line, for the README's schema tables
  void (*get)(const void* row, Value& value) = nullptr;
  Presence presence = Presence::kAlways;
  std::uint8_t decimals = 2;   // Type::kNumber
  Align align = Align::kAuto;  // tables: numbers right, the rest left
  // Tables leave the column out when every row shows this text (e.g. a SOURCE
  // column that would say "iana" on every row); "" = always shown.
  std::string_view table_usual;
  // Zeek's type name when it is not the type's usual one (conn.log's proto is "enum").
  std::string_view zeek_type;

  bool machine() const { return presence != Presence::kDisplay; }
  bool shown_in_table() const { return !header.empty(); }
  bool right_aligned() const;
};

// A record kind: its name (JSON "kind" where several kinds share an output, the
// Zeek #path) and its fields in output order.
struct RecordKind {
  std::string_view name;
  std::span<const Field> fields;
  std::string_view meaning;
  // The table's columns by field name, in display order; empty = every field with
  // a header, in declaration order.
  std::span<const std::string_view> table = {};
  // For kinds nested in a list (Type::kRecords): one row as a short text, for
  // table and CSV cells, e.g. "python3[4242]:fd3". Items are joined with ", ".
  void (*text)(const void* row, std::string& out) = nullptr;
  // A hot kind's table cells written directly (the 100k-socket table): one cell
  // per field of `shown`, exactly what the getters and the table's rules give
  // (tests/output compare the two). nullptr: the generic path.
  void (*table_row)(const void* row, std::span<const Field* const> shown, TableRow& out) = nullptr;
};

// The row behind a getter's `const void*`.
template <class Row>
const Row& as(const void* row) {
  return *static_cast<const Row*>(row);
}

// Names for the schema's documentation: "string", "count", ..., "bytes", ...
std::string_view to_string(Type type);
std::string_view to_string(Unit unit);

}  // namespace sockscope::output
