#include "cli/output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sockscope::cli {

void Sink::flush() {
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EPIPE (e.g. `| head`): drop the rest quietly
    }
    p += n;
    left -= std::size_t(n);
  }
  buf_.clear();
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_align)
    : headers_(std::move(headers)), right_(std::move(right_align)) {
  right_.resize(headers_.size(), false);
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

namespace {
// Display width of UTF-8 text: counts code points (good enough for our cells).
std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xc0) != 0x80;
  return w;
}
}  // namespace

void Table::render(fmt::memory_buffer& out, const Style& style) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = display_width(headers_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], display_width(row[c]));
    }
  }
  auto emit = [&](const std::vector<std::string>& cells, bool header) {
    if (header) fmt::format_to(std::back_inserter(out), "{}", style.bold());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      std::size_t pad = width[c] - display_width(cells[c]);
      if (right_[c]) out.append(std::string(pad, ' '));
      out.append(cells[c]);
      if (!last) {
        if (!right_[c]) out.append(std::string(pad, ' '));
        out.append(std::string_view("  "));
      }
    }
    if (header) fmt::format_to(std::back_inserter(out), "{}", style.reset());
    out.push_back('\n');
  };
  emit(headers_, true);
  for (const auto& row : rows_) emit(row, false);
}

void csv_field(fmt::memory_buffer& out, std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void Table::render_csv(fmt::memory_buffer& out) const {
  auto emit = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) out.push_back(',');
      csv_field(out, cells[c]);
    }
    out.push_back('\n');
  };
  emit(headers_);
  for (const auto& row : rows_) emit(row);
}

void json_string(fmt::memory_buffer& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, esc + 6);
        } else {
          out.push_back(char(c));
        }
    }
  }
  out.push_back('"');
}

void JsonWriter::key(std::string_view k) {
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
  if (!k.empty()) {
    json_string(out_, k);
    out_.push_back(':');
  }
}

JsonWriter& JsonWriter::begin_object(std::string_view k) {
  if (!first_.empty()) key(k);
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array(std::string_view k) {
  key(k);
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::str(std::string_view k, std::string_view value) {
  key(k);
  json_string(out_, value);
  return *this;
}

JsonWriter& JsonWriter::num(std::string_view k, std::int64_t value) {
  key(k);
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonWriter& JsonWriter::num(std::string_view k, std::uint64_t value) {
  key(k);
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonWriter& JsonWriter::real(std::string_view k, double value, int decimals) {
  key(k);
  fmt::format_to(std::back_inserter(out_), "{:.{}f}", value, decimals);
  return *this;
}

JsonWriter& JsonWriter::boolean(std::string_view k, bool value) {
  key(k);
  out_.append(value ? std::string_view("true") : std::string_view("false"));
  return *this;
}

JsonWriter& JsonWriter::null(std::string_view k) {
  key(k);
  out_.append(std::string_view("null"));
  return *this;
}

JsonWriter& JsonWriter::endpoint(std::string_view k, const Endpoint& ep,
                                 std::optional<PortRange> host_ephemeral) {
  begin_object(k);
  char buf[IpAddress::kMaxTextSize];
  str("address", std::string_view(buf, ep.address.format(buf)));
  num("port", unsigned{ep.port});
  str("group", to_string(ep.group()));
  if (host_ephemeral) boolean("ephemeral", host_ephemeral->contains(ep.port));
  return end_object();
}

void JsonWriter::end_line() { out_.push_back('\n'); }

}  // namespace sockscope::cli
