#include "config/Suggestion.h"

#include <gtest/gtest.h>

namespace wsr::config {
namespace {

TEST(Suggestion, NamesTheNearestKnownName) {
  EXPECT_EQ(editDistance("prot", "port"), 2u);
  EXPECT_EQ(suggestion("prot", {"host", "port", "workers"}), "(did you mean port?)");
  // The key without its unit suffix.
  EXPECT_EQ(suggestion("interval", {"interval_ms", "pong_timeout_ms"}),
            "(did you mean interval_ms?)");
  EXPECT_EQ(suggestion("zzzzzz", {"host", "port"}), "");
}

}  // namespace
}  // namespace wsr::config
