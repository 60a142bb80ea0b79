// Parses a socket pair and explains which side is the server.
#include <iostream>
#include <sockscope/community_id.hpp>
#include <sockscope/socket_pair.hpp>

int main(int argc, char** argv) {
  const char* text = argc > 1 ? argv[1] : "192.168.1.5:1099, 192.168.1.7:80";
  auto pair = sockscope::SocketPair::parse(text);
  if (!pair) {
    std::cerr << pair.error().what() << '\n';  // names the problem and the column
    return 2;
  }
  const sockscope::Role role = pair->role();  // the port-group rule
  std::cout << "client    " << pair->endpoint(role.client).to_string() << '\n'
            << "server    " << pair->endpoint(role.server).to_string() << '\n'
            << "evidence  " << to_string(role.evidence) << '\n'
            << "why       " << explain(*pair, role) << '\n'
            << "flow id   " << community_id(*pair) << '\n';
}
