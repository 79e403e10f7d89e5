#include "broker/RedisCounters.h"

#include <chrono>
#include <optional>
#include <random>

#include "auth/SharedWindow.h"
#include "broker/Backoff.h"
#include "broker/ClusterRedirect.h"
#include "broker/RedisCountScript.h"
#include "broker/RedisKeys.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"

namespace wsr::broker {
namespace {

// Additions one pipeline carries at most.
constexpr size_t kMaxBatch = 512;
constexpr uint32_t kBackoffInitialMs = 100;
constexpr uint32_t kBackoffMaxMs = 5000;

}  // namespace

RedisCounters::RedisCounters(const config::Config& config, telemetry::Logger& logger)
    : config_(config),
      logger_(logger),
      // Standalone: the Redis; sharded: the first (every instance lists the
      // same first); cluster: a seed, until a MOVED names the slot's master.
      address_(config.broker.redis.addresses.empty() ? std::string()
                                                     : config.broker.redis.addresses.front()) {}

RedisCounters::~RedisCounters() {
  stop();
}

void RedisCounters::start() {
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  attemptedFor_.wait_for(lock,
                         std::chrono::milliseconds(2 * config_.broker.redis.connectTimeoutMs + 100),
                         [this] { return attempted_; });
}

void RedisCounters::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Request> left;
  {
    std::lock_guard lock(mutex_);
    for (Request& request : queue_)
      left.push_back(std::move(request));
    queue_.clear();
  }
  answerNothing(left);
}

void RedisCounters::add(hub::SharedLimit limit, std::string client, uint32_t amount, Done done) {
  if (!connected()) {
    done(std::nullopt);
    return;
  }
  std::string key =
      limitKey(hub::sharedLimitName(limit), client, auth::sharedWindowNumber(hub::wallClockMs()));
  const uint64_t sendByMs = net::EventLoop::monotonicMs() + config_.broker.redis.commandTimeoutMs;
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    done(std::nullopt);  // nobody will send it
    return;
  }
  queue_.push_back(Request{std::move(key), amount, sendByMs, std::move(done)});
  lock.unlock();
  wake_.notify_one();
}

void RedisCounters::answerNothing(std::vector<Request>& requests, size_t from) {
  for (size_t i = from; i < requests.size(); ++i) {
    if (requests[i].done) requests[i].done(std::nullopt);
  }
  requests.clear();
}

void RedisCounters::lost(const std::string& error) {
  connection_.close();
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (connected_.exchange(false)) {
    logger_.log(telemetry::LogLevel::Warn, "broker_disconnected",
                {{"connection", "limits"},
                 {"message", error},
                 {"effect", "the limits are counted on each instance alone"}});
  }
}

void RedisCounters::run() {
  Backoff backoff(kBackoffInitialMs, kBackoffMaxMs, std::random_device{}());
  std::vector<Request> batch;
  while (true) {
    if (!connection_.connected()) {
      std::string error;
      const bool made = connection_.connect(config_.broker.redis, address_, error);
      if (made) {
        backoff.reset();
        connected_.store(true);
        logger_.log(telemetry::LogLevel::Info, "broker_connected", {{"connection", "limits"}});
      } else {
        lost(error);
      }
      {
        std::lock_guard lock(mutex_);
        attempted_ = true;
      }
      attemptedFor_.notify_all();
      if (!made) {
        std::unique_lock lock(mutex_);
        // Queued before the connection was known lost: answered now.
        for (Request& request : queue_)
          batch.push_back(std::move(request));
        queue_.clear();
        lock.unlock();
        answerNothing(batch);
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(backoff.nextMs()),
                       [this] { return stopping_; });
        if (stopping_) return;
        continue;
      }
    }
    {
      std::unique_lock lock(mutex_);
      // An idle connection is checked every probe interval (PING), so that a
      // Redis gone while nobody connects is noticed before a handshake waits.
      const bool woken =
          wake_.wait_for(lock, std::chrono::milliseconds(config_.broker.redis.probeIntervalMs),
                         [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      if (!woken) {
        lock.unlock();
        std::string error;
        if (!connection_.command({"PING"}, error)) lost(error);
        continue;
      }
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    send(batch);
    batch.clear();
  }
}

void RedisCounters::send(std::vector<Request>& batch) {
  // Queued too long (the thread was busy with a slow round trip): the
  // worker has waited long enough; the local limit decides.
  const uint64_t now = net::EventLoop::monotonicMs();
  std::vector<Request> late;
  std::erase_if(batch, [&](Request& request) {
    if (request.sendByMs >= now) return false;
    late.push_back(std::move(request));
    return true;
  });
  answerNothing(late);
  if (batch.empty()) return;

  for (const Request& request : batch)
    connection_.append(countCommand(request.key, request.amount, auth::kSharedCountTtlMs));
  std::string error;
  if (!connection_.flush(error)) {
    lost(error);
    answerNothing(batch);
    return;
  }
  bool redirectPending = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    Reply reply = connection_.next(error);
    if (!reply) {
      lost(error);
      answerNothing(batch, i);
      return;
    }
    const std::optional<uint64_t> total = parseCountAnswer(reply.get(), error);
    if (!total) {
      // Redis Cluster: the counters' slot lives on another master (every
      // limit key has the same hash tag): go there from the next batch on.
      if (std::optional<ClusterRedirect> moved = parseClusterRedirect(error);
          moved && !moved->ask && moved->address != address_) {
        logger_.log(telemetry::LogLevel::Info, "shared_limit_node_moved",
                    {{"from", address_}, {"to", moved->address}});
        address_ = moved->address;
        redirectPending = true;
      } else {
        errors_.fetch_add(1, std::memory_order_relaxed);
        logger_.logLimited(telemetry::LogLevel::Warn, "shared_limit_count_failed",
                           {{"message", error}});
      }
    }
    batch[i].done(total);
    batch[i].done = nullptr;
  }
  if (redirectPending) connection_.close();  // connected() false: the loop connects anew
}

}  // namespace wsr::broker
