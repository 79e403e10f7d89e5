#include "feed/DemoFeed.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "FakePublishSink.h"
#include "feed/FeedMessages.h"

namespace wsr::feed {
namespace {

using namespace std::chrono_literals;
using feedtest::FakePublishSink;
using nlohmann::json;
using Records = std::vector<FakePublishSink::Record>;

// Fast cadence, so tests wait tens of milliseconds, not seconds.
config::FeedConfig fastConfig() {
  config::FeedConfig config;
  config.tickIntervalMs = 20;
  config.snapshotIntervalMs = 50;
  return config;
}

// Alerts at every 0.05 % move, so one comes within a few ticks.
ModelParams chattyAlerts() {
  ModelParams params;
  params.alertStepPct = 0.05;
  return params;
}

std::set<std::string> typesOf(const Records& records) {
  std::set<std::string> types;
  for (const auto& r : records)
    types.insert(r.publication.type);
  return types;
}

TEST(DemoFeed, PublishesEveryDocumentedChannelAndType) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  const config::FeedConfig config = fastConfig();
  DemoFeed feed(config, sink, 1, chattyAlerts());
  feed.start();
  const std::set<std::string> all = {"price_update", "orderbook_update", "market_snapshot",
                                     "index_update", "foreign_flow",     "alert"};
  ASSERT_TRUE(sink.waitFor([&](const Records& r) { return typesOf(r) == all; }))
      << "types seen: " << typesOf(sink.records()).size();
  feed.stop();

  std::map<std::string, std::string> sectorOf(config.symbols.begin(), config.symbols.end());
  std::set<std::string> channels;
  for (const auto& record : sink.records()) {
    const hub::Publication& p = record.publication;
    channels.insert(p.channel);
    json data;
    ASSERT_NO_THROW(data = json::parse(p.data)) << p.channel << ": " << p.data;
    ASSERT_TRUE(data.is_object()) << p.data;
    EXPECT_FALSE(data.contains("seq")) << "the sink assigns seq: " << p.data;
    EXPECT_TRUE(data.contains("ts_exchange")) << p.data;
    EXPECT_FALSE(p.trace.valid());
    // The sink checks the names it makes.
    EXPECT_FALSE(p.channelChecked);
    if (p.type == "price_update") {
      const std::string symbol = data["symbol"];
      EXPECT_EQ(p.key, symbol);
      EXPECT_TRUE(p.channel == "stock:" + symbol || p.channel == "sector:" + sectorOf[symbol])
          << p.channel;
    } else if (p.type == "orderbook_update") {
      EXPECT_EQ(p.channel, "orderbook:" + data["symbol"].get<std::string>());
      EXPECT_EQ(p.key, data["symbol"]);
    } else if (p.type == "market_snapshot") {
      EXPECT_EQ(p.channel, "market");
      EXPECT_EQ(data["symbols"].size(), config.symbols.size());
    } else if (p.type == "index_update") {
      EXPECT_EQ(p.channel, "index");
    } else if (p.type == "foreign_flow") {
      EXPECT_EQ(p.channel, "foreign");
    } else if (p.type == "alert") {
      EXPECT_EQ(p.channel, "user:demo");
      EXPECT_EQ(p.key, "");  // events are never conflated
      EXPECT_EQ(data["user"], "demo");
    } else {
      ADD_FAILURE() << "unexpected type " << p.type;
    }
  }
  for (const auto& [symbol, sector] : config.symbols) {
    EXPECT_TRUE(channels.count("orderbook:" + symbol)) << symbol;
    EXPECT_TRUE(channels.count("sector:" + sector)) << sector;
  }
  for (const char* channel : {"market", "index", "foreign", "user:demo"}) {
    EXPECT_TRUE(channels.count(channel)) << channel;
  }
  const FeedStats stats = feed.stats();
  EXPECT_EQ(stats.published, sink.records().size());
  EXPECT_EQ(stats.skipped, 0u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST(DemoFeed, SectorChannelsCarryOnlyTheirOwnSymbols) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  const config::FeedConfig config = fastConfig();
  DemoFeed feed(config, sink, 2);
  feed.start();
  ASSERT_TRUE(sink.waitForCount("price_update", 200));
  feed.stop();
  std::map<std::string, std::string> sectorOf(config.symbols.begin(), config.symbols.end());
  std::map<std::string, std::set<std::string>> seen;  // sector -> symbols
  for (const auto& record : sink.records()) {
    const hub::Publication& p = record.publication;
    if (p.channel.rfind("sector:", 0) != 0) continue;
    EXPECT_EQ(p.type, "price_update");
    const std::string symbol = json::parse(p.data)["symbol"];
    const std::string sector = p.channel.substr(7);
    EXPECT_EQ(sectorOf[symbol], sector) << symbol << " on " << p.channel;
    EXPECT_EQ(json::parse(p.data)["sector"], sector);
    seen[sector].insert(symbol);
  }
  EXPECT_EQ(seen.size(), 5u);  // tech, finance, energy, health, consumer in the defaults
}

TEST(DemoFeed, SnapshotsComeAtTheConfiguredCadence) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  DemoFeed feed(fastConfig(), sink, 3);
  const auto started = std::chrono::steady_clock::now();
  feed.start();
  constexpr size_t kSnapshots = 5;
  ASSERT_TRUE(sink.waitForCount("market_snapshot", kSnapshots));
  feed.stop();

  std::vector<std::chrono::steady_clock::time_point> at;
  for (const auto& record : sink.records()) {
    if (record.publication.type == "market_snapshot") at.push_back(record.at);
  }
  ASSERT_GE(at.size(), kSnapshots);
  // The first goes out at once; the n-th is due (n - 1) intervals after the
  // start, never earlier (beats run on a fixed grid).
  EXPECT_GE(at[kSnapshots - 1] - started, (kSnapshots - 1) * 50ms);
  // The three snapshot channels go out together, and ticks come more often.
  const FeedStats stats = feed.stats();
  EXPECT_EQ(sink.count("index_update"), sink.count("market_snapshot"));
  EXPECT_EQ(sink.count("foreign_flow"), sink.count("market_snapshot"));
  EXPECT_EQ(stats.snapshots, sink.count("market_snapshot"));
  EXPECT_GT(stats.ticks, stats.snapshots);
  // Seq is the sink's business: each channel's numbers run 1, 2, 3...
  uint64_t expected = 0;
  for (const auto& record : sink.records()) {
    if (record.publication.channel == "market") {
      EXPECT_EQ(record.seq, ++expected);
    }
  }
}

TEST(DemoFeed, NothingIsBuiltForChannelsWithoutSubscribers) {
  FakePublishSink sink;  // nobody subscribed to anything
  DemoFeed feed(fastConfig(), sink, 4, chattyAlerts());
  feed.start();
  ASSERT_TRUE(sink.waitForAsks(200));
  feed.stop();
  EXPECT_TRUE(sink.records().empty());
  const FeedStats stats = feed.stats();
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.skipped, sink.asks());  // every question answered "no" was a skip
  EXPECT_GT(stats.ticks, 0u);             // the market kept moving
  const std::set<std::string> asked = sink.asked();
  for (const char* channel :
       {"stock:AAPL", "sector:tech", "orderbook:AAPL", "market", "index", "foreign", "user:demo"}) {
    EXPECT_TRUE(asked.count(channel)) << channel;
  }
}

TEST(DemoFeed, OnlySubscribedChannelsArePublished) {
  FakePublishSink sink;
  sink.subscribe("stock:AAPL");
  sink.subscribe("index");
  DemoFeed feed(fastConfig(), sink, 5);
  feed.start();
  ASSERT_TRUE(sink.waitFor([](const Records& r) {
    size_t prices = 0;
    size_t indices = 0;
    for (const auto& record : r) {
      prices += record.publication.channel == "stock:AAPL";
      indices += record.publication.channel == "index";
    }
    return prices >= 3 && indices >= 2;
  }));
  feed.stop();
  for (const auto& record : sink.records()) {
    const std::string& channel = record.publication.channel;
    EXPECT_TRUE(channel == "stock:AAPL" || channel == "index") << channel;
  }
  EXPECT_GT(feed.stats().skipped, 0u);
}

TEST(DemoFeed, StopIsPromptWhateverTheIntervals) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  config::FeedConfig config;
  config.tickIntervalMs = 10000;
  config.snapshotIntervalMs = 10000;
  DemoFeed feed(config, sink, 6);
  feed.start();
  EXPECT_TRUE(feed.running());
  // The first tick and snapshots go out at start; then the thread waits 10 s.
  ASSERT_TRUE(sink.waitForCount("market_snapshot", 1));
  const auto before = std::chrono::steady_clock::now();
  feed.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 500ms);
  EXPECT_FALSE(feed.running());
  feed.stop();  // twice is fine
  EXPECT_EQ(feed.stats().snapshots, 1u);
}

TEST(DemoFeed, StopBeforeStartAndRestart) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  DemoFeed feed(fastConfig(), sink, 7);
  feed.stop();
  feed.start();
  feed.start();  // already running: nothing happens
  ASSERT_TRUE(sink.waitForCount("market_snapshot", 1));
  feed.stop();
  const size_t first = sink.count("market_snapshot");
  feed.start();
  ASSERT_TRUE(sink.waitForCount("market_snapshot", first + 1));
}  // the destructor stops the running feed

TEST(DemoFeed, DisabledFeedDoesNotStart) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  config::FeedConfig config = fastConfig();
  config.enabled = false;
  DemoFeed feed(config, sink, 8);
  feed.start();
  EXPECT_FALSE(feed.running());
  feed.stop();
  EXPECT_EQ(sink.asks(), 0u);
  EXPECT_EQ(feed.stats().ticks, 0u);
}

TEST(DemoFeed, RefusedPublicationsAreCountedAndLoggedAtMostOnceASecond) {
  FakePublishSink sink;
  sink.subscribeAll(true);
  sink.refuse(true);
  DemoFeed feed(fastConfig(), sink, 9);
  ::testing::internal::CaptureStderr();
  feed.start();
  const bool refused = sink.waitForRefused(50);
  feed.stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(refused);
  const FeedStats stats = feed.stats();
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(stats.failed, sink.refused());
  // 50 refusals within about a tick or two: one line, or two across a second.
  std::istringstream lines(log);
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    const json entry = json::parse(line);
    EXPECT_EQ(entry["component"], "feed");
    EXPECT_NE(entry["error"].get<std::string>().find("UNAVAILABLE"), std::string::npos);
  }
  EXPECT_GE(count, 1u);
  EXPECT_LE(count, 2u);
}

TEST(DemoFeed, SameSeedSameStoryWhoeverListens) {
  // The model advances whether or not anything is built, so two feeds with
  // the same seed agree even when one had no subscribers for a while.
  FakePublishSink quiet;
  FakePublishSink loud;
  loud.subscribeAll(true);
  quiet.subscribe("market");
  config::FeedConfig config = fastConfig();
  config.snapshotIntervalMs = 10000;  // one snapshot at start only
  DemoFeed a(config, quiet, 10);
  DemoFeed b(config, loud, 10);
  a.start();
  b.start();
  ASSERT_TRUE(quiet.waitForCount("market_snapshot", 1));
  ASSERT_TRUE(loud.waitForCount("market_snapshot", 1));
  a.stop();
  b.stop();
  // Both snapshots come from step 1 of the same seed: equal apart from ts.
  auto firstSnapshot = [](const FakePublishSink& sink) {
    for (const auto& record : sink.records()) {
      if (record.publication.channel == "market") return json::parse(record.publication.data);
    }
    return json();
  };
  json x = firstSnapshot(quiet);
  json y = firstSnapshot(loud);
  x.erase("ts_exchange");
  y.erase("ts_exchange");
  EXPECT_EQ(x, y);
}

}  // namespace
}  // namespace wsr::feed
