#include "output/text.hpp"

namespace sockscope::output {
namespace {

constexpr char kHex[] = "0123456789abcdef";

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// `width` digits with leading zeros.
char* put_padded(char* p, std::uint64_t n, int width) {
  for (int i = width - 1; i >= 0; --i, n /= 10) p[i] = char('0' + n % 10);
  return p + width;
}

// n / unit with one decimal, rounded half up: "26.3 kB".
ShortText one_decimal(std::uint64_t n, std::uint64_t unit, std::string_view suffix) {
  const std::uint64_t tenths = (n + unit / 20) / (unit / 10);
  ShortText t;
  char* p = put_digits(t.text, tenths / 10);
  *p++ = '.';
  *p++ = char('0' + tenths % 10);
  *p++ = ' ';
  p = put(p, suffix);
  t.size = std::size_t(p - t.text);
  return t;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

}  // namespace

void json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  std::size_t plain = 0;  // start of the run not yet appended
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, s.data() + i);
    plain = i + 1;
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, esc + 6);
      }
    }
  }
  out.append(s.data() + plain, s.data() + s.size());
  out.push_back('"');
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

void zeek_field(fmt::memory_buffer& out, std::string_view s) {
  if (s.empty()) {
    out.append(std::string_view("(empty)"));
    return;
  }
  for (unsigned char c : s) {
    if (is_control(c) || c == '\\') {
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, esc + 4);
    } else {
      out.push_back(char(c));
    }
  }
}

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

// Eight bytes at a time: every table cell passes here, hundreds of thousands per run.
bool has_control(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t w = load8(s.data() + i);
    // A byte below 0x20 (ASCII bytes only: x - 0x20 borrows into the high bit), or 0x7f.
    const std::uint64_t below = (w - 0x20 * kOnes) & ~w & kHighs;
    const std::uint64_t del = w ^ (0x7f * kOnes);
    if (below | ((del - kOnes) & ~del & kHighs)) break;
  }
  for (; i < s.size(); ++i) {
    if (is_control(static_cast<unsigned char>(s[i]))) return true;
  }
  return false;
}

namespace {

// A byte as \n, \t, \r or \xNN.
void append_escaped(std::string& out, unsigned char c) {
  if (c == '\n') {
    out += "\\n";
  } else if (c == '\t') {
    out += "\\t";
  } else if (c == '\r') {
    out += "\\r";
  } else {
    out += "\\x";
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  if (!has_control(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    if (!is_control(c)) {
      out.push_back(char(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

namespace {

// The length of the valid UTF-8 sequence at s[i] (1-4), or 0 when the bytes
// there are no valid sequence (a stray continuation, a cut or overlong form,
// a surrogate, beyond U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (n == 0 || c > 0xf4 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
      (c == 0xf4 && c1 > 0x8f)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string utf8_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i++]);
    if (n == 1 && !is_control(c)) {
      out.push_back(char(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

std::string shortened(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::size_t display_width(std::string_view s) {
  // Bytes minus UTF-8 continuation bytes (10xxxxxx), eight at a time.
  std::size_t continuations = 0, i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t w = load8(s.data() + i);
    const std::uint64_t marks = w & ~(w << 1) & kHighs;
    if (marks) continuations += std::size_t(__builtin_popcountll(marks));  // ASCII: none
  }
  for (; i < s.size(); ++i) continuations += (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80;
  return s.size() - continuations;
}

TextScan scan_text(std::string_view s) {
  // The tail is padded with 'a' (neither control nor continuation) to one more word.
  std::uint64_t controls = 0;
  std::size_t continuations = 0, i = 0;
  auto step = [&](std::uint64_t w) {
    const std::uint64_t del = w ^ (0x7f * kOnes);
    controls |= ((w - 0x20 * kOnes) & ~w & kHighs) | ((del - kOnes) & ~del & kHighs);
    continuations += std::size_t(__builtin_popcountll(w & ~(w << 1) & kHighs));
  };
  for (; i + 8 <= s.size(); i += 8) step(load8(s.data() + i));
  if (i < s.size()) {
    std::uint64_t w = 0x61 * kOnes;
    std::memcpy(&w, s.data() + i, s.size() - i);
    step(w);
  }
  // The SWAR test flags bytes >= 0x80 only through the borrow of a lower byte;
  // confirm a hit byte by byte, as has_control() does.
  return {controls != 0 && has_control(s), s.size() - continuations};
}

ShortText seconds_text(std::uint64_t ns) {
  ShortText t;
  char* p = put_digits(t.text, ns / 1'000'000'000u);
  *p++ = '.';
  p = put_padded(p, ns % 1'000'000'000u / 1000u, 6);
  t.size = std::size_t(p - t.text);
  return t;
}

ShortText bytes_text(std::uint64_t n) {
  if (n < 10'000) {
    ShortText t;
    t.size = std::size_t(put_digits(t.text, n) - t.text);
    return t;
  }
  if (n < 9'999'950) return one_decimal(n, 1'000, "kB");
  if (n < 9'999'950'000ull) return one_decimal(n, 1'000'000, "MB");
  return one_decimal(n, 1'000'000'000, "GB");
}

ShortText duration_text(std::uint64_t ns) {
  ShortText t;
  char* p = t.text;
  const std::uint64_t ms = (ns + 500'000) / 1'000'000;
  if (ms < 60'000) {
    p = put_digits(p, ms / 1000);
    *p++ = '.';
    p = put_padded(p, ms % 1000, 3);
    *p++ = 's';
  } else if (const std::uint64_t s = ms / 1000; s < 3600) {
    p = put_digits(p, s / 60);
    *p++ = 'm';
    p = put_padded(p, s % 60, 2);
    *p++ = 's';
  } else {
    p = put_digits(p, s / 3600);
    *p++ = 'h';
    p = put_padded(p, s / 60 % 60, 2);
    *p++ = 'm';
  }
  t.size = std::size_t(p - t.text);
  return t;
}

}  // namespace sockscope::output
