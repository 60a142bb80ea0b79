// Every record kind's declaration is sound: names unique, table columns name real
// fields, and no two fields flatten to the same CSV column.
#include <gtest/gtest.h>

#include <set>

#include "output/kinds/all.hpp"
#include "output/writer.hpp"

namespace sockscope::output {
namespace {

TEST(SchemaTest, DeclarationsAreSound) {
  for (const RecordKind* kind : all_kinds()) {
    std::set<std::string_view> names;
    std::vector<const Field*> machine;
    for (const Field& f : kind->fields) {
      EXPECT_TRUE(names.insert(f.name).second) << kind->name << "." << f.name;
      EXPECT_NE(f.get, nullptr) << kind->name << "." << f.name;
      EXPECT_FALSE(f.meaning.empty()) << kind->name << "." << f.name << ": say what it means";
      if (f.machine()) machine.push_back(&f);
      if (f.presence == Presence::kDisplay) {
        EXPECT_FALSE(f.header.empty()) << kind->name << "." << f.name << ": shown nowhere";
      }
    }
    for (std::string_view column : kind->table) {
      EXPECT_TRUE(names.count(column)) << kind->name << " table: " << column;
    }
    const auto flat = flat_columns(machine, true, '_');
    EXPECT_EQ(std::set<std::string>(flat.begin(), flat.end()).size(), flat.size()) << kind->name;
  }
}

}  // namespace
}  // namespace sockscope::output
