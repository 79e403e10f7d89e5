#pragma once
// The counts of the limits shared by the instances (hub::SharedCounters),
// kept in Redis: its own thread and connection, so that no worker ever
// waits on Redis. Workers queue additions; the thread sends every addition
// queued meanwhile as one pipeline of the count script (RedisCountScript.h;
// one round trip for many) and calls each back with its total. An addition
// is answered with nothing (the local limit decides alone) when the
// connection is down, when it could not be sent within
// broker.redis.command_timeout_ms, or when the connection fails on the way;
// the answer to a sent one comes within the command timeout (hiredis's read
// timeout), so a worker's wait is bounded either way.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/RedisConnection.h"
#include "config/Config.h"
#include "hub/SharedCounters.h"
#include "telemetry/Logger.h"

namespace wsr::broker {

class RedisCounters final : public hub::SharedCounters {
 public:
  RedisCounters(const config::Config& config, telemetry::Logger& logger);
  ~RedisCounters() override;  // stop()
  RedisCounters(const RedisCounters&) = delete;
  RedisCounters& operator=(const RedisCounters&) = delete;

  // Starts the thread and waits for its first connection attempt (at most
  // about the connect timeout): a reachable Redis counts from the first
  // upgrade on.
  void start();
  // Joins the thread; what is still queued is answered with nothing.
  void stop();

  // hub::SharedCounters.
  void add(hub::SharedLimit limit, std::string client, uint32_t amount, Done done) override;

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  struct Request {
    std::string key;
    uint32_t amount;
    uint64_t sendByMs;  // monotonic; not sent by then: answered with nothing
    Done done;
  };

  void run();
  // Sends `batch` as one pipeline and answers each.
  void send(std::vector<Request>& batch);
  void lost(const std::string& error);
  static void answerNothing(std::vector<Request>& requests, size_t from = 0);

  const config::Config& config_;
  telemetry::Logger& logger_;
  std::string address_;         // the thread's only: where the counts live
  RedisConnection connection_;  // the thread's only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable attemptedFor_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  bool attempted_ = false;  // the first connection attempt has ended
  std::thread thread_;

  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace wsr::broker
