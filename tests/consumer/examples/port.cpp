// Looks a port up in the IANA registry built into the library.
#include <iomanip>
#include <iostream>
#include <sockscope/registry.hpp>
#include <string>

int main(int argc, char** argv) {
  using namespace sockscope;
  auto port = parse_port(argc > 1 ? argv[1] : "443");
  if (!port) {
    std::cerr << port.error().what() << '\n';
    return 2;
  }
  const Registry& iana = Registry::builtin();  // Registry{} + load_services_file(): local names
  for (Transport t : {Transport::kTcp, Transport::kUdp, Transport::kSctp, Transport::kDccp}) {
    const PortAnswer answer = iana.lookup(*port, t);
    const std::string key = std::to_string(*port) + "/" + std::string(to_string(t));
    std::cout << std::left << std::setw(10) << key << to_string(answer.group) << ", "
              << to_string(answer.status);
    for (const Service* s : answer.services) {
      std::cout << "  " << s->name << " (" << s->description << ") " << s->reference;
    }
    std::cout << '\n';
  }
}
