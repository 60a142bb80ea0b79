// RecordWriter: records of the schema (schema.hpp) in one output format.
//
//   RecordWriter out(Format::kJson, sink, {&kGroup, &kEphemeralRangeKind});
//   out.write(kGroup, row);            // one JSON line, CSV row, Zeek line or table row
//   out.note("3 more: --all");         // prose, tables only
//   out.finish();                      // renders tables, Zeek's #close
//
// Formats and their rules:
//   table  one aligned table per kind, columns sized to the content (header and every
//          row), numbers right-aligned; only fields with a header; text from outside
//          has its control characters escaped; tables are rendered at note() and
//          finish(), so prose stands between them where it was written.
//   json   JSON Lines: one object per record, machine fields in declaration order;
//          an endpoint is an object; kOptional fields are left out at 0/false/null.
//   csv    one header, then one row per record, every row as wide as the header;
//          endpoints flattened (NAME_address, NAME_port, NAME_group[, NAME_ephemeral]);
//          with several kinds, the union of their columns (a kind lacks some: empty).
//   zeek   Zeek's TSV log: #separator ... #fields/#types header, "-" unset,
//          "(empty)" empty, endpoints flattened as NAME.address, ...; #close at the end.
// Machine formats carry raw numbers (bytes, percent as a number); tables show bytes
// as "26.3 kB", durations as "1.643s" and percentages with "%".
// Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output/schema.hpp"
#include "output/sink.hpp"
#include "sockscope/port.hpp"

namespace sockscope::output {

enum class Format : std::uint8_t { kTable, kJson, kCsv, kZeek };
std::string_view to_string(Format format);  // "table", "json", "csv", "zeek"

struct WriterOptions {
  // When known, every endpoint says whether its port lies in this host's ephemeral
  // range (JSON "ephemeral", CSV NAME_ephemeral).
  std::optional<PortRange> host_ephemeral;
  Style style;
  // Zeek's #path; the first kind's name when empty.
  std::string_view zeek_path;
  // Fields left out of this output (by name, any kind): e.g. a socket's `event`
  // outside --watch. Like ss's column selection, and the same for every format.
  std::vector<std::string_view> hidden;
  // Tables: the header once, at the first rendering of a kind (a --watch stream
  // renders the same table again and again); column widths never shrink.
  bool header_once = false;
  // Tables and CSV without their header line (ss -H).
  bool no_header = false;
};

class RecordWriter {
 public:
  RecordWriter(Format format, Sink& out, std::vector<const RecordKind*> kinds,
               WriterOptions options = {});
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // One record. REQUIRES: `kind` is one of the writer's kinds.
  void write(const RecordKind& kind, const void* row);
  template <class Row>
  void write(const RecordKind& kind, const Row& row) {
    write(kind, static_cast<const void*>(&row));
  }
  // Writes the header now (CSV, Zeek), for rows that other code formats (a fast
  // path) to follow; otherwise it comes with the first record.
  void begin() {
    if (!started_) start();
  }
  // Table format: renders the tables buffered so far, then the line. Others: nothing.
  void note(std::string_view line);
  // Renders the tables buffered so far and writes everything out (a --watch refresh).
  void flush();
  // Renders what is buffered and ends the output (Zeek's #close). Idempotent.
  void finish();

  Format format() const { return format_; }
  bool human() const { return format_ == Format::kTable; }
  Sink& sink() { return out_; }
  const WriterOptions& options() const { return options_; }

 private:
  struct Table;
  struct Columns;
  // The fields of `kind` this output writes, in order (machine or table view).
  std::vector<const Field*> plan(const RecordKind& kind) const;
  std::size_t index_of(const RecordKind& kind) const;
  void start();
  void render_tables();
  void write_json(std::size_t kind, const void* row);
  void write_flat(std::size_t kind, const void* row);  // CSV and Zeek
  void write_table_row(std::size_t kind, const void* row);

  Format format_;
  Sink& out_;
  std::vector<const RecordKind*> kinds_;
  WriterOptions options_;
  std::vector<std::vector<const Field*>> plans_;  // per kind
  std::unique_ptr<Columns> columns_;              // CSV and Zeek: the union of columns
  std::vector<std::unique_ptr<Table>> tables_;    // table: one per kind
  bool started_ = false, finished_ = false;
  Value value_;
  fmt::memory_buffer scratch_;  // a generic table cell being formatted
};

// The flattened machine columns of a kind, as CSV and Zeek name them: an
// endpoint "client" is client_address, client_port, client_group[,
// client_ephemeral] (CSV) or client.address, ... (Zeek).
// A field's table cell through its getter and the table's rules (for a kind's fast
// table path, on the fields it does not write itself).
void table_cell(const Field& field, const void* row, TableRow& out);

std::vector<std::string> flat_columns(std::span<const Field* const> fields, bool ephemeral,
                                      char separator);

}  // namespace sockscope::output
