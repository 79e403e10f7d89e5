#include "ws/Opcode.h"

namespace wsr::ws {

bool isValidCloseCode(uint16_t code) {
  // 1004 is reserved, 1005/1006/1015 are "no frame" placeholders a peer must
  // never put on the wire, and 1012-1014 are IANA-registered later but not by
  // RFC 6455: wsrouter accepts only what the RFC defines plus the
  // registered-by-application range (3000-3999) and private range (4000-4999).
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1011) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace wsr::ws
