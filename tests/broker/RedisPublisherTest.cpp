// What the Redis publisher refuses before anything goes to Redis: a
// channel name nobody checked yet is checked here, once, and refused with
// its name.

#include "broker/RedisPublisher.h"

#include <gtest/gtest.h>

#include <string>

#include "config/Config.h"
#include "telemetry/Logger.h"

namespace wsr::broker {
namespace {

class RedisPublisherTest : public ::testing::Test {
 protected:
  hub::Publication make(std::string channel, std::string data = "1") {
    hub::Publication publication;
    publication.channel = std::move(channel);
    publication.data = std::move(data);
    return publication;
  }

  config::Config config_;
  telemetry::Logger logger_{telemetry::LogLevel::Error, -1};
  // Never started: nothing here reaches a Redis.
  RedisPublisher publisher_{config_, "127.0.0.1:1", logger_};
};

TEST_F(RedisPublisherTest, AnUncheckedInvalidChannelIsRefusedWithItsName) {
  const hub::PublishResult result = publisher_.publish(make("bad channel"));
  EXPECT_EQ(result.error, hub::PublishError::InvalidChannel);
  EXPECT_NE(result.message.find("'bad channel'"), std::string::npos) << result.message;
  // A refusal of the publication, not a failure of the broker.
  EXPECT_EQ(publisher_.failures(), 0u);
}

TEST_F(RedisPublisherTest, InABatchOnlyTheInvalidOneIsRefusedForItsName) {
  std::string longInvalid(200, 'x');
  longInvalid.append(" y");
  const hub::Publication bad = make(longInvalid);
  const hub::Publication good = make("stock:A");
  const hub::Publication* batch[] = {&good, &bad};
  const std::vector<hub::PublishResult> results = publisher_.publishBatch(batch);
  ASSERT_EQ(results.size(), 2u);
  // Past the name check, it fails only for want of a Redis.
  EXPECT_EQ(results[0].error, hub::PublishError::Unavailable);
  EXPECT_EQ(results[1].error, hub::PublishError::InvalidChannel);
  // The name in the message is bounded, as the name's own limit.
  std::string bounded(128, 'x');
  bounded.push_back('\'');
  EXPECT_NE(results[1].message.find(bounded), std::string::npos) << results[1].message;
}

// The publish API's parser checked the name already: it is not checked
// again (the parser refused it there, had it been invalid).
TEST_F(RedisPublisherTest, ANameThePublisherCheckedIsNotCheckedAgain) {
  hub::Publication publication = make("not checked again");
  publication.channelChecked = true;
  EXPECT_EQ(publisher_.publish(publication).error, hub::PublishError::Unavailable);
}

}  // namespace
}  // namespace wsr::broker
