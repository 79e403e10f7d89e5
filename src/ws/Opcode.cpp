#include "ws/Opcode.h"

namespace wsr::ws {

bool isValidCloseCode(uint16_t code) {
  // 1004 is reserved and 1005/1006/1015 are "no frame" placeholders a peer
  // must never put on the wire. 1012-1014 (service restart, try again later,
  // bad gateway) came after RFC 6455 through the IANA registry and real
  // servers and proxies send them, so they are accepted. 3000-3999 are
  // registered by libraries, 4000-4999 private (wsrouter's own 4001, 4008...).
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace wsr::ws
