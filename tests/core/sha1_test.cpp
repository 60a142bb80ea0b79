// SHA-1 block functions (portable and SHA extensions) against the FIPS 180
// examples, coreutils' sha1sum, and each other; base64 against RFC 4648.
#include "core/sha1.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope::detail {
namespace {

std::string hex(const Sha1Digest& d) {
  std::string s;
  for (std::uint8_t b : d) {
    s += "0123456789abcdef"[b >> 4];
    s += "0123456789abcdef"[b & 15];
  }
  return s;
}

const std::uint8_t* bytes(std::string_view m) {
  return reinterpret_cast<const std::uint8_t*>(m.data());
}

struct Vector {
  std::string message;
  const char* digest;
};

// FIPS 180-2 appendix A (one block, two blocks, a million 'a') and B.2's 896-bit message.
std::vector<Vector> fips_vectors() {
  return {
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
       "mnopqrsmnopqrstnopqrstu",
       "a49b2446a02c645bf419f995b67091253a04a259"},
      {std::string(1'000'000, 'a'), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
  };
}

// Lengths 0..300 (every padding case: rest < 56, 56..63, whole blocks), random bytes.
std::vector<std::string> random_messages() {
  std::mt19937 rng(180);
  std::vector<std::string> out;
  for (std::size_t length = 0; length <= 300; ++length) {
    std::string m(length, '\0');
    for (char& c : m) c = char(rng());
    out.push_back(std::move(m));
  }
  return out;
}

TEST(Sha1Test, PortableMatchesFips180) {
  for (const Vector& v : fips_vectors()) {
    EXPECT_EQ(hex(sha1_portable(bytes(v.message), v.message.size())), v.digest)
        << v.message.size() << " bytes";
  }
}

TEST(Sha1Test, AcceleratedMatchesFips180) {
  if (!sha1_accelerated_available()) GTEST_SKIP() << "this CPU has no SHA extensions (sha_ni)";
  for (const Vector& v : fips_vectors()) {
    auto digest = sha1_accelerated(bytes(v.message), v.message.size());
    ASSERT_TRUE(digest.has_value());
    EXPECT_EQ(hex(*digest), v.digest) << v.message.size() << " bytes";
  }
}

TEST(Sha1Test, DefaultIsTheAcceleratedOneWhenTheCpuHasIt) {
  const std::string m = "abc";
  EXPECT_EQ(sha1_accelerated_available(), sha1_accelerated(bytes(m), m.size()).has_value());
  EXPECT_EQ(hex(sha1(bytes(m), m.size())), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1Test, PortableAndAcceleratedAgreeOnRandomLengths) {
  if (!sha1_accelerated_available()) GTEST_SKIP() << "this CPU has no SHA extensions (sha_ni)";
  for (const std::string& m : random_messages()) {
    auto accelerated = sha1_accelerated(bytes(m), m.size());
    ASSERT_TRUE(accelerated.has_value());
    ASSERT_EQ(hex(*accelerated), hex(sha1_portable(bytes(m), m.size()))) << m.size() << " bytes";
  }
}

// The padding boundaries against coreutils, so the cross-check above does not rest
// on our two implementations alone.
TEST(Sha1Test, MatchesSha1sumAtPaddingBoundaries) {
  const std::vector<std::string> messages = random_messages();
  const std::string path = testing::TempDir() + "sockscope_sha1_" + std::to_string(getpid());
  for (std::size_t length : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 300}) {
    const std::string& m = messages[length];
    std::ofstream(path, std::ios::binary).write(m.data(), std::streamsize(m.size()));
    FILE* pipe = popen(("sha1sum '" + path + "'").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[128] = {};
    const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
    pclose(pipe);
    if (!read && length == 0) GTEST_SKIP() << "sha1sum (coreutils) not found";
    ASSERT_TRUE(read) << "sha1sum gave no output";
    const std::string expected(line, 40);
    EXPECT_EQ(hex(sha1(bytes(m), m.size())), expected) << length << " bytes";
    EXPECT_EQ(hex(sha1_portable(bytes(m), m.size())), expected) << length << " bytes";
  }
  std::remove(path.c_str());
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [in, expected] : vectors) {
    char out[16];
    ASSERT_EQ(base64_size(in.size()), expected.size());
    char* end = base64_to(bytes(in), in.size(), out);
    EXPECT_EQ(std::string_view(out, std::size_t(end - out)), expected) << in;
  }
}

}  // namespace
}  // namespace sockscope::detail
