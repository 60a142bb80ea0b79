// Uses the installed library the way a third party would.
#include <cstdio>
#include <sockscope/socket_pair.hpp>

int main() {
  auto pair = sockscope::SocketPair::parse("192.168.1.5:1099, 192.168.1.7:80");
  if (!pair) return 1;
  auto role = pair->role();
  std::printf("client %s server %s\n", pair->endpoint(role.client).to_string().c_str(),
              pair->endpoint(role.server).to_string().c_str());
  return 0;
}
