// The table's text checks against byte-by-byte definitions written here: a control
// character is a C0 byte or DEL; a terminal column is a UTF-8 byte that is not a
// continuation byte (10xxxxxx). Every length from 0 to 40 (the SWAR loops' word
// boundaries and tails) with the interesting bytes at every position.
#include "output/text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sockscope::output {
namespace {

bool control_by_bytes(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::size_t width_by_bytes(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

void expect_same(const std::string& s) {
  const TextScan scan = scan_text(s);
  EXPECT_EQ(scan.control, control_by_bytes(s)) << testing::PrintToString(s);
  EXPECT_EQ(scan.width, width_by_bytes(s)) << testing::PrintToString(s);
  EXPECT_EQ(has_control(s), control_by_bytes(s)) << testing::PrintToString(s);
  EXPECT_EQ(display_width(s), width_by_bytes(s)) << testing::PrintToString(s);
}

TEST(TextScan, OneSpecialByteAtEveryPositionOfEveryLength) {
  const unsigned char specials[] = {0x00, 0x01, 0x09, 0x0a, 0x1b, 0x1f, 0x20, 0x7e,
                                    0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc3, 0xe2, 0xff};
  for (std::size_t len = 0; len <= 40; ++len) {
    expect_same(std::string(len, 'x'));
    for (std::size_t at = 0; at < len; ++at) {
      for (unsigned char c : specials) {
        std::string s(len, 'q');
        s[at] = char(c);
        expect_same(s);
      }
    }
  }
}

TEST(TextScan, RealNamesAndRandomBytes) {
  for (const char* s : {"python3", "bench_host_hold", "nginx: worker", "k\xc3\xa4se",
                        "日本語の名前", "tab\there", "esc\x1b[31m", "del\x7f", "\xe2\x80\xa6"}) {
    expect_same(s);
  }
  std::mt19937 random(42);
  for (int i = 0; i < 20000; ++i) {
    std::string s(random() % 41, '\0');
    for (char& c : s) c = char(random() % 4 == 0 ? random() % 256 : 0x20 + random() % 0x5f);
    expect_same(s);
  }
}

}  // namespace
}  // namespace sockscope::output
