#include "output/writer.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "output/table_store.hpp"
#include "output/text.hpp"

namespace sockscope::output {
namespace {

void append(fmt::memory_buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

void digits(fmt::memory_buffer& out, std::uint64_t n) {
  const fmt::format_int d(n);
  out.append(d.data(), d.data() + d.size());
}

void signed_digits(fmt::memory_buffer& out, std::int64_t n) {
  const fmt::format_int d(n);
  out.append(d.data(), d.data() + d.size());
}

void fixed(fmt::memory_buffer& out, double d, int decimals) {
  fmt::format_to(fmt::appender(out), "{:.{}f}", d, decimals);
}

bool is_time(const Field& f) { return f.type == Type::kTime || f.type == Type::kDuration; }

// A number as machine formats write it: times and durations as seconds with
// microseconds, decimals with the field's places.
void machine_number(fmt::memory_buffer& out, const Field& f, const Value& v) {
  switch (v.tag()) {
    case Value::Tag::kUnsigned:
      if (is_time(f)) {
        append(out, seconds_text(v.unsigned_value()));
      } else {
        digits(out, v.unsigned_value());
      }
      return;
    case Value::Tag::kSigned: signed_digits(out, v.signed_value()); return;
    case Value::Tag::kNumber: fixed(out, v.number_value(), f.decimals); return;
    default: return;
  }
}

// Zeek's #open/#close time: "2026-11-25-02-10-00" (UTC).
std::string zeek_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d-%H-%M-%S", &tm);
  return text;
}

std::string_view zeek_type(Type t) {
  switch (t) {
    case Type::kString: return "string";
    case Type::kCount: return "count";
    case Type::kInteger: return "int";
    case Type::kNumber: return "double";
    case Type::kBool: return "bool";
    case Type::kTime: return "time";
    case Type::kDuration: return "interval";
    case Type::kAddress: return "addr";
    case Type::kPort: return "port";
    case Type::kEndpoint: return "string";  // flattened; not used whole
    case Type::kStrings: return "vector[string]";
    case Type::kRecords: return "vector[string]";
    case Type::kCounts: return "string";
  }
  return "string";
}

// The text of a list item of a nested kind (table and CSV cells).
void record_text(const Value& v, std::size_t i, std::string& out) {
  if (v.record_kind().text) v.record_kind().text(v.record(i), out);
}

// "3 ESTAB, 1 TIME-WAIT" (tables) or "ESTAB=3 TIME-WAIT=1" (CSV, Zeek).
void counts_text(fmt::memory_buffer& out, std::span<const StateCount> counts, bool human) {
  bool first = true;
  for (const auto& c : counts) {
    if (!first) append(out, human ? ", " : " ");
    first = false;
    if (human) {
      digits(out, c.count);
      out.push_back(' ');
      append(out, c.name);
    } else {
      append(out, c.name);
      out.push_back('=');
      digits(out, c.count);
    }
  }
}

}  // namespace

std::string_view to_string(Format format) {
  switch (format) {
    case Format::kTable: return "table";
    case Format::kJson: return "json";
    case Format::kCsv: return "csv";
    case Format::kZeek: return "zeek";
  }
  return "table";
}

bool Field::right_aligned() const {
  if (align != Align::kAuto) return align == Align::kRight;
  switch (type) {
    case Type::kCount:
    case Type::kInteger:
    case Type::kNumber:
    case Type::kPort:
    case Type::kDuration: return true;
    default: return false;
  }
}

std::vector<std::string> flat_columns(std::span<const Field* const> fields, bool ephemeral,
                                      char separator) {
  std::vector<std::string> names;
  for (const Field* f : fields) {
    if (f->type != Type::kEndpoint) {
      names.emplace_back(f->name);
      continue;
    }
    for (std::string_view part : {"address", "port", "group", "ephemeral"}) {
      if (part == "ephemeral" && !ephemeral) break;
      names.push_back(std::string(f->name) + separator + std::string(part));
    }
  }
  return names;
}

// CSV and Zeek: the union of the kinds' columns, and for each kind where its
// flattened columns go.
struct RecordWriter::Columns {
  std::vector<std::string> names;
  std::vector<std::string_view> zeek_types;
  std::vector<std::vector<std::size_t>> index;  // per kind: its flat column -> union column
};

// A kind's table: its rows (table_store.hpp) until the columns' widths are known.
struct RecordWriter::Table {
  std::vector<std::size_t> width;
  std::vector<std::string_view> usual_text;  // per column: the field's table_usual
  std::vector<char> usual;                   // per column: every cell so far is usual
  TableStore store;
  std::size_t rows = 0;
  bool rendered = false;
};

std::vector<const Field*> RecordWriter::plan(const RecordKind& kind) const {
  auto hidden = [&](const Field& f) {
    return std::find(options_.hidden.begin(), options_.hidden.end(), f.name) !=
           options_.hidden.end();
  };
  std::vector<const Field*> fields;
  if (format_ != Format::kTable) {
    for (const Field& f : kind.fields) {
      if (f.machine() && !hidden(f)) fields.push_back(&f);
    }
    return fields;
  }
  auto add = [&](const Field& f) {
    if (f.shown_in_table() && !hidden(f)) fields.push_back(&f);
  };
  if (kind.table.empty()) {
    for (const Field& f : kind.fields) add(f);
    return fields;
  }
  for (std::string_view name : kind.table) {
    for (const Field& f : kind.fields) {
      if (f.name == name) add(f);
    }
  }
  return fields;
}

std::size_t RecordWriter::index_of(const RecordKind& kind) const {
  for (std::size_t k = 0; k < kinds_.size(); ++k) {
    if (kinds_[k] == &kind) return k;
  }
  return kinds_.size();
}

RecordWriter::RecordWriter(Format format, Sink& out, std::vector<const RecordKind*> kinds,
                           WriterOptions options)
    : format_(format), out_(out), kinds_(std::move(kinds)), options_(std::move(options)) {
  for (const RecordKind* kind : kinds_) plans_.push_back(plan(*kind));
  if (format_ == Format::kTable) {
    for (const auto& fields : plans_) {
      auto t = std::make_unique<Table>();
      for (const Field* f : fields) {
        t->width.push_back(options_.no_header ? 0 : display_width(f->header));
        t->usual_text.push_back(f->table_usual);
        t->usual.push_back(!f->table_usual.empty());
      }
      tables_.push_back(std::move(t));
    }
    return;
  }
  if (format_ == Format::kJson) return;
  columns_ = std::make_unique<Columns>();
  const bool eph = options_.host_ephemeral.has_value();
  const char sep = format_ == Format::kZeek ? '.' : '_';
  for (const auto& fields : plans_) {
    std::vector<std::string> names = flat_columns(fields, eph, sep);
    std::vector<std::string_view> types;
    for (const Field* f : fields) {
      if (f->type == Type::kEndpoint) {
        types.insert(types.end(), {"addr", "port", "string"});
        if (eph) types.push_back("bool");
      } else {
        types.push_back(f->zeek_type.empty() ? zeek_type(f->type) : f->zeek_type);
      }
    }
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto it = std::find(columns_->names.begin(), columns_->names.end(), names[i]);
      if (it == columns_->names.end()) {
        columns_->names.push_back(names[i]);
        columns_->zeek_types.push_back(types[i]);
        it = columns_->names.end() - 1;
      }
      index.push_back(std::size_t(it - columns_->names.begin()));
    }
    columns_->index.push_back(std::move(index));
  }
}

RecordWriter::~RecordWriter() { finish(); }

void RecordWriter::start() {
  started_ = true;
  auto& buf = out_.buffer();
  if (format_ == Format::kCsv && !options_.no_header) {
    for (std::size_t i = 0; i < columns_->names.size(); ++i) {
      if (i) buf.push_back(',');
      csv_field(buf, columns_->names[i]);
    }
    buf.push_back('\n');
  } else if (format_ == Format::kZeek) {
    const std::string_view path =
        !options_.zeek_path.empty()
            ? options_.zeek_path
            : (kinds_.empty() ? std::string_view("sockscope") : kinds_[0]->name);
    fmt::format_to(fmt::appender(buf),
                   "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                   "#unset_field\t-\n#path\t{}\n#open\t{}\n#fields",
                   path, zeek_now());
    for (const auto& n : columns_->names) fmt::format_to(fmt::appender(buf), "\t{}", n);
    append(buf, "\n#types");
    for (const auto& t : columns_->zeek_types) fmt::format_to(fmt::appender(buf), "\t{}", t);
    buf.push_back('\n');
  }
}

void RecordWriter::write(const RecordKind& kind, const void* row) {
  if (!started_) start();
  const std::size_t k = index_of(kind);
  if (k == kinds_.size()) return;
  switch (format_) {
    case Format::kJson: write_json(k, row); break;
    case Format::kCsv:
    case Format::kZeek: write_flat(k, row); break;
    case Format::kTable: write_table_row(k, row); break;
  }
  out_.maybe_flush();
}

namespace {

void json_endpoint(fmt::memory_buffer& buf, const Endpoint& ep,
                   const std::optional<PortRange>& host) {
  char text[IpAddress::kMaxTextSize];
  append(buf, "{\"address\":\"");
  append(buf, std::string_view(text, ep.address.format(text)));
  append(buf, "\",\"port\":");
  digits(buf, ep.port);
  append(buf, ",\"group\":\"");
  append(buf, to_string(ep.group()));
  buf.push_back('"');
  if (host) append(buf, host->contains(ep.port) ? ",\"ephemeral\":true" : ",\"ephemeral\":false");
  buf.push_back('}');
}

template <class Fields>
void json_object(fmt::memory_buffer& buf, const Fields& fields, const void* row,
                 const std::optional<PortRange>& host, Value& v);

void json_value(fmt::memory_buffer& buf, const Field& f, const Value& v,
                const std::optional<PortRange>& host) {
  switch (v.tag()) {
    case Value::Tag::kNull: append(buf, "null"); break;
    case Value::Tag::kString: json_string(buf, v.text()); break;
    case Value::Tag::kUnsigned:
    case Value::Tag::kSigned:
    case Value::Tag::kNumber: machine_number(buf, f, v); break;
    case Value::Tag::kBool: append(buf, v.bool_value() ? "true" : "false"); break;
    case Value::Tag::kEndpoint: json_endpoint(buf, v.endpoint_value(), host); break;
    case Value::Tag::kStrings: {
      buf.push_back('[');
      bool first = true;
      for (const auto& s : v.strings_value()) {
        if (!first) buf.push_back(',');
        first = false;
        json_string(buf, s);
      }
      buf.push_back(']');
      break;
    }
    case Value::Tag::kRecords: {
      buf.push_back('[');
      std::vector<const Field*> fields;
      for (const Field& inner : v.record_kind().fields) {
        if (inner.machine()) fields.push_back(&inner);
      }
      Value inner;
      for (std::size_t i = 0; i < v.record_count(); ++i) {
        if (i) buf.push_back(',');
        json_object(buf, fields, v.record(i), host, inner);
      }
      buf.push_back(']');
      break;
    }
    case Value::Tag::kCounts: {
      buf.push_back('{');
      bool first = true;
      for (const auto& c : v.counts_value()) {
        if (!first) buf.push_back(',');
        first = false;
        json_string(buf, c.name);
        buf.push_back(':');
        digits(buf, c.count);
      }
      buf.push_back('}');
      break;
    }
  }
}

template <class Fields>
void json_object(fmt::memory_buffer& buf, const Fields& fields, const void* row,
                 const std::optional<PortRange>& host, Value& v) {
  buf.push_back('{');
  bool first = true;
  for (const Field* f : fields) {
    f->get(row, v);
    if (f->presence == Presence::kOptional && v.is_null()) continue;
    if (f->presence == Presence::kSparse && v.is_zero()) continue;
    if (!first) buf.push_back(',');
    first = false;
    buf.push_back('"');
    append(buf, f->name);
    append(buf, "\":");
    json_value(buf, *f, v, host);
  }
  buf.push_back('}');
}

// A list value as one text: items joined by `separator`.
std::string joined_text(const Value& v, std::string_view separator) {
  std::string joined;
  const bool strings = v.tag() == Value::Tag::kStrings;
  const std::size_t n = strings ? v.strings_value().size() : v.record_count();
  for (std::size_t i = 0; i < n; ++i) {
    if (i) joined += separator;
    if (strings) {
      joined += v.strings_value()[i];
    } else {
      record_text(v, i, joined);
    }
  }
  return joined;
}

// One non-endpoint value as a CSV or Zeek cell (appended to `cell`).
void flat_value(fmt::memory_buffer& cell, const Field& f, const Value& v, bool zeek) {
  auto text = [&](std::string_view t) {
    if (zeek) {
      zeek_field(cell, t);
    } else {
      csv_field(cell, t);
    }
  };
  switch (v.tag()) {
    case Value::Tag::kNull: append(cell, zeek ? "-" : ""); break;
    case Value::Tag::kString: text(v.text()); break;
    case Value::Tag::kUnsigned:
    case Value::Tag::kSigned:
    case Value::Tag::kNumber: machine_number(cell, f, v); break;
    case Value::Tag::kBool:
      append(cell, v.bool_value() ? (zeek ? "T" : "true") : (zeek ? "F" : "false"));
      break;
    case Value::Tag::kEndpoint: break;  // flattened by the caller
    case Value::Tag::kStrings:
    case Value::Tag::kRecords: {
      const std::string joined = joined_text(v, zeek ? "," : ", ");
      if (zeek && joined.empty()) {
        append(cell, "(empty)");
      } else {
        text(joined);
      }
      break;
    }
    case Value::Tag::kCounts: {
      fmt::memory_buffer counts;
      counts_text(counts, v.counts_value(), false);
      text(std::string_view(counts.data(), counts.size()));
      break;
    }
  }
}

}  // namespace

void RecordWriter::write_json(std::size_t k, const void* row) {
  auto& buf = out_.buffer();
  json_object(buf, plans_[k], row, options_.host_ephemeral, value_);
  buf.push_back('\n');
}

void RecordWriter::write_flat(std::size_t k, const void* row) {
  const std::vector<std::size_t>& index = columns_->index[k];
  const bool zeek = format_ == Format::kZeek;
  const auto& host = options_.host_ephemeral;
  // Each cell is formatted on its own, then placed in its union column.
  std::vector<std::string> cells(columns_->names.size(), zeek ? "-" : "");
  fmt::memory_buffer cell;
  std::size_t col = 0;
  auto put = [&] {
    cells[index[col++]].assign(cell.data(), cell.size());
    cell.clear();
  };
  for (const Field* f : plans_[k]) {
    f->get(row, value_);
    const Value& v = value_;
    if (f->type != Type::kEndpoint) {
      flat_value(cell, *f, v, zeek);
      put();
      continue;
    }
    if (v.is_null()) {
      col += host ? 4 : 3;  // unset cells stay as they are
      continue;
    }
    const Endpoint& ep = v.endpoint_value();
    char text[IpAddress::kMaxTextSize];
    append(cell, std::string_view(text, ep.address.format(text)));
    put();
    digits(cell, ep.port);
    put();
    append(cell, to_string(ep.group()));
    put();
    if (host) {
      append(cell, host->contains(ep.port) ? (zeek ? "T" : "true") : (zeek ? "F" : "false"));
      put();
    }
  }
  auto& buf = out_.buffer();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) buf.push_back(zeek ? '\t' : ',');
    append(buf, cells[i]);
  }
  buf.push_back('\n');
}

namespace {

// A field's value as a table cell, appended to `out`.
void table_cell(fmt::memory_buffer& out, const Field& f, const Value& v) {
  switch (v.tag()) {
    case Value::Tag::kNull: out.push_back('-'); return;
    case Value::Tag::kString:
      if (has_control(v.text())) {
        append(out, terminal_safe(v.text()));
      } else {
        append(out, v.text());
      }
      return;
    case Value::Tag::kUnsigned:
      if (f.type == Type::kDuration) {
        append(out, duration_text(v.unsigned_value()));
      } else if (f.type == Type::kTime) {
        append(out, seconds_text(v.unsigned_value()));
      } else if (f.unit == Unit::kBytes) {
        append(out, bytes_text(v.unsigned_value()));
      } else {
        digits(out, v.unsigned_value());
      }
      return;
    case Value::Tag::kSigned: signed_digits(out, v.signed_value()); return;
    case Value::Tag::kNumber:
      if (f.unit == Unit::kPercent) {
        signed_digits(out, std::int64_t(v.number_value() + 1e-9));
        out.push_back('%');
      } else {
        fixed(out, v.number_value(), f.decimals);
      }
      return;
    case Value::Tag::kBool: append(out, v.bool_value() ? "yes" : "no"); return;
    case Value::Tag::kEndpoint: {
      char text[Endpoint::kMaxTextSize];
      append(out, std::string_view(text, v.endpoint_value().format(text)));
      return;
    }
    case Value::Tag::kStrings:
    case Value::Tag::kRecords: append(out, terminal_safe(joined_text(v, ", "))); return;
    case Value::Tag::kCounts:
      if (v.counts_value().empty()) {
        out.push_back('-');
      } else {
        counts_text(out, v.counts_value(), true);
      }
      return;
  }
}

}  // namespace

void table_cell(const Field& field, const void* row, TableRow& out) {
  Value v;
  field.get(row, v);
  fmt::memory_buffer text;
  table_cell(text, field, v);
  out.cell(std::string_view(text.data(), text.size()));
}

void RecordWriter::write_table_row(std::size_t k, const void* row) {
  Table& t = *tables_[k];
  const auto& fields = plans_[k];
  TableRow cells(t.store, fields.size(), t.width.data(), t.usual_text.data(), t.usual.data());
  if (kinds_[k]->table_row) {
    kinds_[k]->table_row(row, fields, cells);
  } else {
    for (const Field* f : fields) {
      f->get(row, value_);
      scratch_.clear();
      table_cell(scratch_, *f, value_);
      cells.cell(std::string_view(scratch_.data(), scratch_.size()));
    }
  }
  ++t.rows;
}

void RecordWriter::render_tables() {
  auto& buf = out_.buffer();
  for (std::size_t k = 0; k < tables_.size(); ++k) {
    Table& t = *tables_[k];
    if (t.rows == 0) continue;
    const auto& fields = plans_[k];
    std::vector<std::size_t> shown;  // columns not left out as usual
    std::size_t line_room = 1;       // every shown column at its width, separators, newline
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (t.usual[c]) continue;
      shown.push_back(c);
      line_room += t.width[c] + 2;
    }
    // One line into room reserved once (cells: text, display width), padded to the
    // columns; empty last cells leave no trailing spaces. Padding is one 32-byte store
    // into the room's slack (a memset call per cell cost more).
    static constexpr char kSpaces[] = "                                ";
    constexpr std::size_t kSlack = sizeof kSpaces - 1;
    auto pad = [](char* p, std::size_t n) {
      if (n <= kSlack) {
        std::memcpy(p, kSpaces, kSlack);
      } else {
        std::memset(p, ' ', n);
      }
      return p + n;
    };
    auto emit = [&](auto&& cell_of, std::size_t text_bytes) {
      const std::size_t start = buf.size();
      buf.resize(start + line_room + text_bytes + kSlack);
      char* p = buf.data() + start;
      for (std::size_t i = 0; i < shown.size(); ++i) {
        const std::size_t c = shown[i];
        const auto [text, width] = cell_of(c);
        const std::size_t fill = t.width[c] - std::min<std::size_t>(t.width[c], width);
        const bool right = fields[c]->right_aligned();
        if (right) p = pad(p, fill);
        std::memcpy(p, text.data(), text.size());
        p += text.size();
        if (i + 1 < shown.size()) p = pad(p, (right ? 0 : fill) + 2);
      }
      while (p > buf.data() + start && p[-1] == ' ') --p;
      *p++ = '\n';
      buf.resize(std::size_t(p - buf.data()));
    };
    if ((!t.rendered || !options_.header_once) && !options_.no_header) {
      append(buf, options_.style.bold());
      std::size_t bytes = 0;
      for (const Field* f : fields) bytes += f->header.size();
      emit(
          [&](std::size_t c) {
            return std::pair(fields[c]->header, display_width(fields[c]->header));
          },
          bytes);
      buf.resize(buf.size() - 1);
      append(buf, options_.style.reset());
      buf.push_back('\n');
    }
    t.rendered = true;
    const std::size_t n = fields.size();
    std::vector<std::string_view> cells(n);
    t.store.each_row(n, [&](const CellSize* size, const char* text) {
      const char* p = text;
      for (std::size_t c = 0; c < n; ++c) {
        cells[c] = std::string_view(p, size[c].bytes);
        p += size[c].bytes;
      }
      emit([&](std::size_t c) { return std::pair(cells[c], std::size_t(size[c].width)); },
           std::size_t(p - text));
      out_.maybe_flush(std::size_t(1) << 16);
    });
    t.store.clear();
    t.rows = 0;
  }
}

void RecordWriter::note(std::string_view line) {
  if (format_ != Format::kTable) return;
  render_tables();
  append(out_.buffer(), line);
  out_.buffer().push_back('\n');
}

void RecordWriter::flush() {
  if (format_ == Format::kTable) render_tables();
  out_.flush();
}

void RecordWriter::finish() {
  if (finished_) return;
  finished_ = true;
  if (!started_ && format_ != Format::kTable) start();
  if (format_ == Format::kTable) render_tables();
  if (format_ == Format::kZeek) {
    fmt::format_to(fmt::appender(out_.buffer()), "#close\t{}\n", zeek_now());
  }
  out_.flush();
}

}  // namespace sockscope::output
