// Error lines and quoted inputs (output/text.hpp, Error::what()). Properties:
// utf8_safe() gives one line of valid UTF-8 without control characters that
// decodes back to the input's valid characters; shortened() is a prefix cut at a
// character boundary, "..." marking the cut; Error::what() quotes a fragment of
// bounded length whose cut never splits a character.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "output/text.hpp"
#include "sockscope/error.hpp"

namespace {

// An independent UTF-8 check (RFC 3629): the length of the sequence at s[i], or 0.
std::size_t sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xe0) == 0xc0)
    n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0)
    n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (b(k) & 0x3f);
  }
  const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string safe = sockscope::output::utf8_safe(in);
  if (!valid_utf8(safe)) std::abort();
  for (unsigned char c : safe) {
    if (c < 0x20 || c == 0x7f) std::abort();
  }
  if (valid_utf8(in) && !sockscope::output::has_control(in) && safe != in) std::abort();
  for (std::size_t limit : {std::size_t(0), std::size_t(1), std::size_t(64), size / 2}) {
    const std::string cut = sockscope::output::shortened(in, limit);
    if (size <= limit) {
      if (cut != in) std::abort();
      continue;
    }
    if (cut.size() < 3 || cut.substr(cut.size() - 3) != "...") std::abort();
    const std::string_view kept(cut.data(), cut.size() - 3);
    if (kept.size() > limit || in.substr(0, kept.size()) != kept) std::abort();
    if (valid_utf8(in) && !valid_utf8(kept)) std::abort();  // the cut split a character
  }
  const sockscope::Error e = sockscope::Error::at(sockscope::Error::Code::kBadSyntax, "bad", 1, in);
  const std::string what = e.what();
  if (what.size() > 128) std::abort();  // "bad at column 1: '" + 64 bytes + "...'"
  if (valid_utf8(in) && !valid_utf8(what)) std::abort();
  return 0;
}
