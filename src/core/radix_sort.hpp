// A stable least-significant-digit radix sort on a 64-bit key, for the hundreds of
// thousands of records that the CLI and the capture table order at the end of a run.
//
//   std::vector<Item> v = ...;
//   radix_sort(v, [](const Item& x) { return x.bytes; });  // ascending, ties keep order
//
// One pass counts all eight byte digits; a digit that is the same for every item (the
// high bytes of timestamps, byte counts or complements) costs nothing, so typical keys
// take 3-5 scatter passes instead of std::sort's ~20 comparisons per item.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sockscope {

// Sorts `v` by key_of(item) ascending; items with equal keys keep their order.
template <class T, class KeyOf>
void radix_sort(std::vector<T>& v, KeyOf&& key_of) {
  const std::size_t n = v.size();
  if (n < 2) return;
  std::vector<std::array<std::size_t, 256>> count(8);  // value-initialized: all zero
  for (const T& item : v) {
    const std::uint64_t k = key_of(item);
    for (int d = 0; d < 8; ++d) ++count[d][(k >> (8 * d)) & 0xff];
  }
  std::vector<T> other(n);
  for (int d = 0; d < 8; ++d) {
    auto& c = count[d];
    const std::uint64_t first_digit = (key_of(v[0]) >> (8 * d)) & 0xff;
    if (c[first_digit] == n) continue;  // every item has this digit: nothing to move
    std::size_t sum = 0;
    for (auto& bucket : c) sum += std::exchange(bucket, sum);  // counts -> offsets
    for (T& item : v) other[c[(key_of(item) >> (8 * d)) & 0xff]++] = std::move(item);
    v.swap(other);
  }
}

}  // namespace sockscope
