#pragma once
// The publish half of the Redis broker: its own thread and connection.
// Publishers (admin threads, the demo feed) queue a publication and wait
// for its seq, at most broker.redis.command_timeout_ms; the thread sends
// every publication queued meanwhile as one pipeline of EVALSHA calls (one
// round trip for many), and answers each. Consecutive publications of one
// channel in one publishBatch() go as one run: one EVALSHA numbers,
// stores and publishes them all (RedisScript.h), which is what lets one
// Redis take well over 100,000 publications a second. It never touches the hub: the
// publication comes back to every instance, this one included, through
// Redis pub/sub (RedisSubscriber).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "broker/ChannelAudience.h"
#include "broker/RedisConnection.h"
#include "config/Config.h"
#include "hub/PublishSink.h"
#include "stats/LatencyHistogram.h"
#include "telemetry/Logger.h"

namespace wsr::broker {

// Redis Cluster's redirections of one publication (mode cluster).
struct PublishRoute {
  bool asking = false;       // in: send ASKING first (the answer to an ASK redirection)
  std::string redirectedTo;  // out: the node MOVED or ASK named; empty when none
  bool ask = false;          // out: the redirection was ASK (this once), not MOVED
  bool tryAgain = false;     // out: TRYAGAIN (the slot is being migrated)
};

class RedisPublisher {
 public:
  // Publications one run (one EVALSHA) carries at most: Redis runs a
  // script alone, so a run is bounded to keep others' commands from
  // waiting long.
  static constexpr size_t kMaxRun = 256;

  // Publishes to the Redis at `address` (host:port); tells `audience` (if
  // any) how many subscriptions each run reached.
  RedisPublisher(const config::Config& config, std::string address, telemetry::Logger& logger,
                 ChannelAudience* audience = nullptr);
  ~RedisPublisher();  // stop()
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;

  void start();
  void stop();

  // Any thread: the publication's seq from Redis, or Unavailable. With
  // `route` (mode cluster), a redirection or TRYAGAIN is reported there
  // (the result is Unavailable then, and not counted as a failure: the
  // broker sends it again).
  hub::PublishResult publish(const hub::Publication& publication, PublishRoute* route = nullptr);
  // Any thread: several, queued together (one pipeline), each answered in
  // order, under one deadline; consecutive ones of the same channel are one
  // run (one EVALSHA; they stand or fall together, each with its own seq).
  // `route` only with a single run: publications of one channel, at most
  // kMaxRun.
  std::vector<hub::PublishResult> publishBatch(
      std::span<const hub::Publication* const> publications, PublishRoute* route = nullptr);

  // Any thread: check the connection now (another connection to the same
  // Redis was lost, so this one may be dead too, unnoticed while idle).
  void recheck();

  const std::string& address() const { return address_; }
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Whether the first connection attempt has ended (either way).
  bool attempted() const { return attempted_.load(std::memory_order_acquire); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  void addLatency(stats::LatencyHistogram::Snapshot& into) const { latency_.addTo(into); }

 private:
  struct Answer {
    Answer(hub::PublishResult r = {}) : result(std::move(r)) {}  // NOLINT: implicit on purpose
    hub::PublishResult result;
    std::string redirectedTo;
    bool ask = false;
    bool tryAgain = false;
  };
  struct Request {
    std::vector<std::string> args;  // EVALSHA's, after the SHA
    std::string channel;
    size_t count = 1;  // publications in the run; the answer's seq is the first's
    bool asking = false;
    std::promise<Answer> done;
  };

  // Why `publication` is refused before it is sent, if it is.
  std::optional<hub::PublishResult> refusal(const hub::Publication& publication);
  void run();
  bool connect(std::string& error);
  // Sends `batch` as one pipeline and answers each (Unavailable when the
  // connection fails on the way).
  void send(std::vector<std::unique_ptr<Request>>& batch);
  // Answers every request still there (non-null) with Unavailable.
  void fail(std::vector<std::unique_ptr<Request>>& requests, const std::string& why);
  void lost(const std::string& error);

  const config::Config& config_;
  const std::string address_;
  telemetry::Logger& logger_;
  ChannelAudience* const audience_;  // may be null
  RedisConnection connection_;       // the thread's only
  std::string sha_;                  // the thread's only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Request>> queue_;
  bool stopping_ = false;
  bool recheck_ = false;
  std::thread thread_;

  // Publication ids (RedisMessage's origin).
  const uint64_t originBase_;
  std::atomic<uint64_t> originCount_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> attempted_{false};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> failures_{0};
  stats::LatencyHistogram latency_;  // written by the thread only
};

}  // namespace wsr::broker
