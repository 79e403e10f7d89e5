#include "feed/DemoFeed.h"

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "feed/FeedMessages.h"

namespace wsr::feed {

namespace {

using Clock = std::chrono::steady_clock;

int64_t epochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The next beat on a fixed grid; beats missed (the thread was descheduled,
// the sink was slow) are dropped rather than fired in a burst to catch up.
Clock::time_point nextBeat(Clock::time_point due, Clock::duration interval, Clock::time_point now) {
  due += interval;
  return due > now ? due : now + interval;
}

}  // namespace

DemoFeed::DemoFeed(const config::FeedConfig& config, hub::PublishSink& sink, uint64_t seed,
                   ModelParams params)
    : config_(config),
      sink_(sink),
      model_(symbolSpecsFrom(config.symbols), seed, params),
      alertChannel_(userChannel(kDemoUser)) {
  for (const SymbolState& s : model_.symbols()) {
    stockChannels_.push_back(stockChannel(s.spec.symbol));
    sectorChannels_.push_back(sectorChannel(s.spec.sector));
    bookChannels_.push_back(orderBookChannel(s.spec.symbol));
  }
}

DemoFeed::~DemoFeed() {
  stop();
}

void DemoFeed::start() {
  if (!config_.enabled) return;
  std::lock_guard lifecycle(lifecycle_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  running_ = true;
  thread_ = std::thread(&DemoFeed::run, this);
}

void DemoFeed::stop() {
  std::lock_guard lifecycle(lifecycle_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

bool DemoFeed::running() const {
  return running_;
}

FeedStats DemoFeed::stats() const {
  return {published_.load(), skipped_.load(), failed_.load(), ticks_.load(), snapshots_.load()};
}

template <class Work>
void DemoFeed::guarded(Work&& work) {
  // Nothing may escape the feed thread (it would terminate the process): a
  // failure is counted and logged, and the next beat tries again.
  try {
    work();
  } catch (const std::exception& e) {
    noteFailure("feed", e.what());
  } catch (...) {
    noteFailure("feed", "unknown exception");
  }
}

void DemoFeed::run() {
  const auto tickInterval = std::chrono::milliseconds(config_.tickIntervalMs);
  const auto snapshotInterval = std::chrono::milliseconds(config_.snapshotIntervalMs);
  Clock::time_point nextTick = Clock::now();
  Clock::time_point nextSnapshot = nextTick;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // wait_until, not sleep: stop() wakes the thread at once.
    if (wake_.wait_until(lock, std::min(nextTick, nextSnapshot), [&] { return stopping_; })) {
      break;
    }
    lock.unlock();
    const Clock::time_point now = Clock::now();
    const int64_t ts = epochMs();
    if (now >= nextTick) {
      guarded([&] { tick(ts); });
      nextTick = nextBeat(nextTick, tickInterval, now);
    }
    if (now >= nextSnapshot) {
      guarded([&] { snapshot(ts); });
      nextSnapshot = nextBeat(nextSnapshot, snapshotInterval, now);
    }
    lock.lock();
  }
}

void DemoFeed::tick(int64_t tsMs) {
  const StepResult& step = model_.step();
  ++ticks_;
  for (size_t i : step.traded) {
    const std::string& symbol = model_.symbol(i).spec.symbol;
    const bool toStock = sink_.hasSubscribers(stockChannels_[i]);
    const bool toSector = sink_.hasSubscribers(sectorChannels_[i]);
    skipped_ += !toStock + !toSector;
    if (!toStock && !toSector) continue;
    // One payload for both channels: the sector channel carries the same update.
    std::string data = priceUpdateJson(model_, i, tsMs);
    if (toStock) send(stockChannels_[i], kPriceUpdate, symbol, toSector ? data : std::move(data));
    if (toSector) send(sectorChannels_[i], kPriceUpdate, symbol, std::move(data));
  }
  for (size_t i = 0; i < model_.symbols().size(); ++i) {
    publishIf(bookChannels_[i], kOrderBookUpdate, model_.symbol(i).spec.symbol,
              [&] { return orderBookJson(model_, i, tsMs); });
  }
  // No key: alerts are events, a newer one must not replace a queued one.
  for (const Alert& alert : step.alerts) {
    publishIf(alertChannel_, kAlert, "", [&] { return alertJson(model_, alert, kDemoUser, tsMs); });
  }
}

void DemoFeed::snapshot(int64_t tsMs) {
  ++snapshots_;
  // Keyed by channel: a queued, unsent snapshot may be replaced by a newer one.
  publishIf(kMarketChannel, kMarketSnapshot, kMarketChannel,
            [&] { return marketSnapshotJson(model_, tsMs); });
  publishIf(kIndexChannel, kIndexUpdate, kIndexChannel, [&] { return indexJson(model_, tsMs); });
  publishIf(kForeignChannel, kForeignFlow, kForeignChannel,
            [&] { return foreignFlowJson(model_, tsMs); });
}

template <class Build>
void DemoFeed::publishIf(std::string_view channel, std::string_view type, std::string_view key,
                         Build&& build) {
  if (!sink_.hasSubscribers(channel)) {
    ++skipped_;
    return;
  }
  send(channel, type, key, build());
}

void DemoFeed::send(std::string_view channel, std::string_view type, std::string_view key,
                    std::string data) {
  // The sink checks the channel name (channelChecked unset).
  hub::Publication publication;
  publication.channel = std::string(channel);
  publication.type = std::string(type);
  publication.key = std::string(key);
  publication.data = std::move(data);
  try {
    const hub::PublishResult result = sink_.publish(std::move(publication));
    if (result.ok()) {
      ++published_;
    } else {
      noteFailure(channel, std::string(hub::errorCodeOf(result.error)) + ": " + result.message);
    }
  } catch (const std::exception& e) {
    noteFailure(channel, e.what());
  } catch (...) {
    noteFailure(channel, "unknown exception");
  }
}

void DemoFeed::noteFailure(std::string_view channel, std::string_view why) {
  const uint64_t failed = ++failed_;
  const Clock::time_point now = Clock::now();
  // At most one line a second: a broker outage fails every publication, and
  // a line for each would flood the log.
  if (failuresLogged_ != 0 && now - lastFailureLog_ < std::chrono::seconds(1)) return;
  const nlohmann::ordered_json line = {
      {"level", "warn"},
      {"component", "feed"},
      {"msg", "demo feed publication failed"},
      {"channel", channel},
      {"error", why},
      {"failures_since_last_report", failed - failuresLogged_},
  };
  std::fprintf(stderr, "%s\n",
               line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  lastFailureLog_ = now;
  failuresLogged_ = failed;
}

}  // namespace wsr::feed
