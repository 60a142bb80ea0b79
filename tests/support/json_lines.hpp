// JSON Lines output of the real `sockscope`, parsed for the CLI tests: one value
// per line; a line that is not JSON fails the test (and is left out).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/run_command.hpp"

namespace sockscope::testing {

inline std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  for (const auto& line : lines(out)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (!j.is_discarded()) v.push_back(std::move(j));
  }
  return v;
}

}  // namespace sockscope::testing
