#include "hub/ChannelName.h"

#include <gtest/gtest.h>

#include <string>

namespace wsr::hub {
namespace {

TEST(ChannelName, AcceptsTheProtocolExamples) {
  for (const char* name : {"market", "foreign", "index", "stock:AAPL", "orderbook:AAPL",
                           "sector:tech", "user:42", "user:a.b@c-d_e", "a:b:c"}) {
    EXPECT_TRUE(isValidChannelName(name)) << name;
  }
}

TEST(ChannelName, RefusesEmptyTooLongAndForeignBytes) {
  EXPECT_FALSE(isValidChannelName(""));
  EXPECT_FALSE(isValidChannelName(":AAPL"));
  EXPECT_TRUE(isValidChannelName(std::string(128, 'a')));
  EXPECT_FALSE(isValidChannelName(std::string(129, 'a')));
  for (const char* name :
       {"stock AAPL", "stock/AAPL", "stöck", "a\"b", "a\\b", "a\nb", "stock:*", "a,b"}) {
    EXPECT_FALSE(isValidChannelName(name)) << name;
  }
  EXPECT_FALSE(isValidChannelName(std::string_view("a\0b", 3)));
}

TEST(ChannelName, NamespaceIsThePartBeforeTheFirstColon) {
  EXPECT_EQ(namespaceOf("stock:AAPL"), "stock");
  EXPECT_EQ(namespaceOf("market"), "market");
  EXPECT_EQ(namespaceOf("a:b:c"), "a");
}

}  // namespace
}  // namespace wsr::hub
