#include "ws/Opcode.h"

#include <gtest/gtest.h>

namespace wsr::ws {
namespace {

TEST(OpcodeTest, ControlOpcodesHaveTheHighBit) {
  EXPECT_FALSE(isControl(Opcode::Continuation));
  EXPECT_FALSE(isControl(Opcode::Text));
  EXPECT_FALSE(isControl(Opcode::Binary));
  EXPECT_TRUE(isControl(Opcode::Close));
  EXPECT_TRUE(isControl(Opcode::Ping));
  EXPECT_TRUE(isControl(Opcode::Pong));
}

TEST(OpcodeTest, AcceptsTheCodesAPeerMaySend) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(isValidCloseCode(code)) << code;
  }
}

TEST(OpcodeTest, RefusesReservedAndPlaceholderCodes) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(isValidCloseCode(code)) << code;
  }
}

TEST(OpcodeTest, MatchesTheRangesExhaustively) {
  for (uint32_t code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    ASSERT_EQ(isValidCloseCode(static_cast<uint16_t>(code)), expected) << code;
  }
}

}  // namespace
}  // namespace wsr::ws
