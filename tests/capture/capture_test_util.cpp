#include "capture/capture_test_util.hpp"

namespace sockscope::testing {

CaptureRun run_capture(const std::string& bytes, ConversationOptions options) {
  CaptureRun run;
  auto reader = CaptureReader::from_memory(bytes);
  if (!reader) {
    run.open_error = reader.error();
    return run;
  }
  ConversationTable table(options, [&](const Conversation& c) { run.conversations.push_back(c); });
  read_capture(**reader, table, run.stats);
  table.finish();
  run.read_error = (*reader)->error();
  run.evicted_early = table.evicted_early();
  return run;
}

std::vector<const Conversation*> by_client(const CaptureRun& run, const std::string& client) {
  std::vector<const Conversation*> out;
  for (const auto& c : run.conversations) {
    if (c.pair.first.to_string() == client) out.push_back(&c);
  }
  return out;
}

}  // namespace sockscope::testing
