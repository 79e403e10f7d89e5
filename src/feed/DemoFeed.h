#pragma once
// The built-in demo feed: a MarketModel advanced on its own thread, published
// through hub::PublishSink, the same path as the publish API.
//
// Every tick (tickIntervalMs): the model steps; each symbol that traded gets
// a price_update on stock:<symbol> and on sector:<sector>; every symbol gets
// an orderbook_update on orderbook:<symbol>; each alert raised goes to
// user:demo. Every snapshotIntervalMs: market_snapshot on market, index_update
// on index, foreign_flow on foreign. The first tick and the first snapshots
// go out at start(), so retained values exist at once.
//
// A message whose channel has no subscriber is not built at all (DESIGN.md:
// nothing serialised while a channel has no subscriber), but the model keeps
// advancing, so what a late subscriber sees does not depend on who listened.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/Config.h"
#include "feed/MarketModel.h"
#include "hub/PublishSink.h"

namespace wsr::feed {

struct FeedStats {
  uint64_t published = 0;  // accepted by the sink
  uint64_t skipped = 0;    // not built: no subscriber on the channel
  uint64_t failed = 0;     // refused by the sink (or it threw)
  uint64_t ticks = 0;
  uint64_t snapshots = 0;  // snapshot rounds (market, index, foreign together)
};

class DemoFeed {
 public:
  // `sink` must outlive the feed. `params` tune the model (tests raise the
  // alert rate with them).
  DemoFeed(const config::FeedConfig& config, hub::PublishSink& sink, uint64_t seed,
           ModelParams params = {});
  ~DemoFeed();
  DemoFeed(const DemoFeed&) = delete;
  DemoFeed& operator=(const DemoFeed&) = delete;

  // Starts the feed thread; does nothing when the config disables the feed
  // or when it is already running.
  void start();
  // Wakes the thread and joins it; returns within one tick's work whatever
  // the intervals. Safe to call twice, from any thread, before start().
  void stop();
  bool running() const;

  FeedStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  template <class Work>
  void guarded(Work&& work);
  void tick(int64_t tsMs);
  void snapshot(int64_t tsMs);
  // Publishes the payload build() returns, unless nobody subscribes to
  // `channel`, in which case build() is not called.
  template <class Build>
  void publishIf(std::string_view channel, std::string_view type, std::string_view key,
                 Build&& build);
  void send(std::string_view channel, std::string_view type, std::string_view key,
            std::string data);
  void noteFailure(std::string_view channel, std::string_view why);

  const config::FeedConfig config_;
  hub::PublishSink& sink_;
  MarketModel model_;  // touched by the feed thread only, once started
  // Channel names per symbol, built once rather than on every tick.
  std::vector<std::string> stockChannels_;
  std::vector<std::string> sectorChannels_;
  std::vector<std::string> bookChannels_;
  const std::string alertChannel_;

  std::mutex lifecycle_;  // serialises start() and stop()
  std::thread thread_;
  std::atomic<bool> running_{false};
  mutable std::mutex mutex_;  // guards stopping_, for the condition variable
  std::condition_variable wake_;
  bool stopping_ = false;

  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> skipped_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> ticks_{0};
  std::atomic<uint64_t> snapshots_{0};
  // Feed thread only: failure logging at most once a second.
  Clock::time_point lastFailureLog_{};
  uint64_t failuresLogged_ = 0;
};

}  // namespace wsr::feed
