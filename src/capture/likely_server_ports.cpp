// The ports of Zeek 7's base scripts that add to likely_server_ports (conn-level
// protocols: dns, dhcp, ntp, snmp, syslog, radius, sip, krb, http, ssl/dtls, ssh, ftp,
// smtp, pop3, imap, irc, smb, dce-rpc, mysql, rdp, socks, modbus, dnp3, mqtt, ldap,
// xmpp, redis, postgresql, finger; and the tunnels: vxlan, geneve, teredo, gtpv1,
// ayiya). Sorted, for a binary search.
#include "capture/likely_server_ports.hpp"

#include <algorithm>
#include <iterator>

namespace sockscope::capture_detail {
namespace {

constexpr std::uint16_t kTcp[] = {21,   22,   25,   53,   79,   80,   81,   88,   110,  135,
                                  139,  143,  389,  443,  445,  465,  502,  563,  585,  587,
                                  614,  631,  636,  989,  990,  992,  993,  995,  1080, 1434,
                                  1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432,
                                  6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000};
constexpr std::uint16_t kUdp[] = {53,   67,   88,   123,  137,  161,  162,  389,
                                  443,  514,  547,  1812, 2123, 2152, 3544, 4789,
                                  5060, 5072, 5353, 5355, 6081, 20000};

static_assert(std::is_sorted(std::begin(kTcp), std::end(kTcp)));
static_assert(std::is_sorted(std::begin(kUdp), std::end(kUdp)));

}  // namespace

bool likely_server_port(Transport transport, std::uint16_t port) {
  if (transport == Transport::kTcp)
    return std::binary_search(std::begin(kTcp), std::end(kTcp), port);
  if (transport == Transport::kUdp)
    return std::binary_search(std::begin(kUdp), std::end(kUdp), port);
  return false;
}

}  // namespace sockscope::capture_detail
