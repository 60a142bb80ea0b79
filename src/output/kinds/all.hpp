// Every record kind sockscope writes, for documentation and schema checks.
#pragma once

#include <span>

#include "output/schema.hpp"

namespace sockscope::output {

std::span<const RecordKind* const> all_kinds();

}  // namespace sockscope::output
