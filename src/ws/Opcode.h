#pragma once
// RFC 6455 section 5.2 opcodes and section 7.4 close codes.

#include <cstdint>

namespace wsr::ws {

enum class Opcode : uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

inline bool isControl(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
inline constexpr uint16_t kNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr uint16_t kAbnormal = 1006;  // never sent: "the connection dropped"
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
}  // namespace close_code

// Whether a peer may put `code` in a close frame (RFC 6455 7.4.1, 7.4.2):
// 1000-1003, 1007-1011, 3000-4999. 1004-1006, 1015 and the rest are refused.
bool isValidCloseCode(uint16_t code);

}  // namespace wsr::ws
