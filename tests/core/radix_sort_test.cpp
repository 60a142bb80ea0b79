#include "core/radix_sort.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace sockscope {
namespace {

struct Item {
  std::uint64_t key;
  std::uint32_t id;  // the position before sorting: ties must keep it ascending
  bool operator==(const Item&) const = default;
};

// The truth: the standard library's stable sort on the same items.
std::vector<Item> stable_sorted(std::vector<Item> v) {
  std::stable_sort(v.begin(), v.end(), [](const Item& a, const Item& b) { return a.key < b.key; });
  return v;
}

std::vector<Item> numbered(const std::vector<std::uint64_t>& keys) {
  std::vector<Item> v;
  for (std::uint32_t i = 0; i < keys.size(); ++i) v.push_back({keys[i], i});
  return v;
}

TEST(RadixSortTest, SmallHandComputed) {
  std::vector<Item> v = numbered({5, 1, 5, 0, ~std::uint64_t(0), 1, 256});
  radix_sort(v, [](const Item& x) { return x.key; });
  const std::vector<Item> want = {
      {0, 3}, {1, 1}, {1, 5}, {5, 0}, {5, 2}, {256, 6}, {~std::uint64_t(0), 4}};
  EXPECT_EQ(v, want);
}

TEST(RadixSortTest, EmptyOneAndAllEqual) {
  std::vector<Item> none;
  radix_sort(none, [](const Item& x) { return x.key; });
  EXPECT_TRUE(none.empty());
  std::vector<Item> one = numbered({42});
  radix_sort(one, [](const Item& x) { return x.key; });
  EXPECT_EQ(one, numbered({42}));
  std::vector<Item> same = numbered(std::vector<std::uint64_t>(1000, 0xabcdef));
  radix_sort(same, [](const Item& x) { return x.key; });
  EXPECT_EQ(same, numbered(std::vector<std::uint64_t>(1000, 0xabcdef)));
}

// Keys of the shapes the callers sort: full 64-bit randoms, complements of small
// counts (descending byte counts, many ties), and nanosecond timestamps in one window.
TEST(RadixSortTest, AgreesWithStableSort) {
  std::mt19937_64 rng(7);
  for (int shape = 0; shape < 3; ++shape) {
    for (std::size_t n : {2u, 3u, 255u, 256u, 257u, 10000u, 100000u}) {
      std::vector<std::uint64_t> keys(n);
      for (auto& k : keys) {
        switch (shape) {
          case 0: k = rng(); break;
          case 1: k = ~(rng() % 5000); break;
          default: k = 1'700'000'000'000'000'000ull + rng() % 3'600'000'000'000ull; break;
        }
      }
      std::vector<Item> v = numbered(keys);
      radix_sort(v, [](const Item& x) { return x.key; });
      ASSERT_EQ(v, stable_sorted(numbered(keys))) << "shape " << shape << ", n " << n;
    }
  }
}

}  // namespace
}  // namespace sockscope
