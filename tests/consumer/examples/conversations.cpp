// Reads a capture file into conversations and prints the largest five.
#include <iostream>
#include <sockscope/capture_input.hpp>
#include <sockscope/conversations.hpp>
#include <string>

int main(int argc, char** argv) {
  using namespace sockscope;
  const std::string path = argc > 1 ? argv[1] : "-";  // "-": standard input
  auto input = CaptureInput::open_file(path);         // pcap or pcapng; libpcap for the rest
  if (!input) {
    std::cerr << input.error().what() << '\n';
    return 3;
  }
  ConversationStore all;
  ConversationTable table({}, [&](const Conversation& c) { all.push_back(c); });
  CaptureStats stats;
  (*input)->read(table, stats);
  table.finish();  // the conversations still open at the end
  if ((*input)->error()) std::cerr << (*input)->error()->what() << '\n';  // damaged: counts kept

  Naming naming(Registry::builtin());
  const auto largest = sorted(all, ConversationOrder::kBytes);
  for (std::size_t i = 0; i < largest.size() && i < 5; ++i) {
    const Conversation& c = *largest[i];  // pair.first is the client, pair.second the server
    const Service* service = naming.service(c.pair.transport, c.pair.second.port, c.evidence);
    std::cout << to_string(c.pair.transport) << ' ' << c.pair.first.to_string() << " -> "
              << c.pair.second.to_string() << ' ' << (service ? service->name : "-") << ' '
              << to_string(c.conn_state) << ' ' << c.packets() << " packets " << c.ip_bytes()
              << " bytes\n";
  }
  std::cout << stats.packets << " packets, " << all.size() << " conversations\n";
}
