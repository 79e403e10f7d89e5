#include "admin/PublisherTokens.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace wsr::admin {
namespace {

// A token file in a fresh directory under the test temp dir.
class PublisherTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-tokens-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/publishers";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  void write(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }

  std::string dir_;
  std::string path_;
};

TEST(PublisherTokensCompare, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(constantTimeEquals("secret", "secret"));
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_FALSE(constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(constantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(constantTimeEquals("secret", "secre"));
  EXPECT_FALSE(constantTimeEquals("secret", ""));
  EXPECT_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(constantTimeEquals(std::string(10000, 'x'), std::string(10000, 'x')));
}

TEST_F(PublisherTokensTest, OneTokenPerLineWithWhitespaceAndBlankLinesIgnored) {
  write("  first-token \n\n\t\nsecond-token\r\n   \nthird token with spaces inside\n");
  PublisherTokens tokens(path_);
  std::string error;
  ASSERT_TRUE(tokens.reload(error)) << error;
  EXPECT_EQ(tokens.size(), 3u);
  EXPECT_TRUE(tokens.verify("first-token"));
  EXPECT_TRUE(tokens.verify("second-token"));
  EXPECT_TRUE(tokens.verify("third token with spaces inside"));
  EXPECT_FALSE(tokens.verify(" first-token"));
  EXPECT_FALSE(tokens.verify("second-token\r"));
  EXPECT_FALSE(tokens.verify("first"));
  EXPECT_FALSE(tokens.verify("first-token2"));
  EXPECT_FALSE(tokens.verify(""));
}

TEST_F(PublisherTokensTest, DuplicateLinesCountOnce) {
  write("a\na\n b \nb\n");
  PublisherTokens tokens(path_);
  std::string error;
  ASSERT_TRUE(tokens.reload(error)) << error;
  EXPECT_EQ(tokens.size(), 2u);
}

TEST_F(PublisherTokensTest, MissingFileFailsNamingIt) {
  PublisherTokens tokens(path_);
  std::string error;
  EXPECT_FALSE(tokens.reload(error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_EQ(tokens.size(), 0u);
  EXPECT_FALSE(tokens.verify("anything"));
}

TEST_F(PublisherTokensTest, FileWithoutTokensFailsNamingIt) {
  write("\n   \n\t\r\n");
  PublisherTokens tokens(path_);
  std::string error;
  EXPECT_FALSE(tokens.reload(error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("no token"), std::string::npos) << error;
}

TEST_F(PublisherTokensTest, RotationOldAndNewOverlapThenOldIsGone) {
  write("old-token\n");
  PublisherTokens tokens(path_);
  std::string error;
  ASSERT_TRUE(tokens.reload(error)) << error;
  EXPECT_TRUE(tokens.verify("old-token"));
  EXPECT_FALSE(tokens.verify("new-token"));

  write("old-token\nnew-token\n");
  ASSERT_TRUE(tokens.reload(error)) << error;
  EXPECT_TRUE(tokens.verify("old-token"));
  EXPECT_TRUE(tokens.verify("new-token"));

  write("new-token\n");
  ASSERT_TRUE(tokens.reload(error)) << error;
  EXPECT_FALSE(tokens.verify("old-token"));
  EXPECT_TRUE(tokens.verify("new-token"));
}

TEST_F(PublisherTokensTest, FailedReloadKeepsTheTokensInForce) {
  write("kept-token\n");
  PublisherTokens tokens(path_);
  std::string error;
  ASSERT_TRUE(tokens.reload(error)) << error;

  write("\n");  // a rotation caught half-written
  EXPECT_FALSE(tokens.reload(error));
  EXPECT_TRUE(tokens.verify("kept-token"));

  unlink(path_.c_str());
  EXPECT_FALSE(tokens.reload(error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_TRUE(tokens.verify("kept-token"));
}

}  // namespace
}  // namespace wsr::admin
