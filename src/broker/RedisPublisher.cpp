#include "broker/RedisPublisher.h"

#include <chrono>
#include <random>
#include <utility>

#include "broker/Backoff.h"
#include "broker/ClusterRedirect.h"
#include "broker/RedisScript.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "telemetry/TraceContext.h"

namespace wsr::broker {
namespace {

// EVALSHA calls one pipeline carries at most, and publications (a call
// carries a run of them).
constexpr size_t kMaxBatch = 256;
constexpr size_t kMaxBatchPublications = 4096;
constexpr uint32_t kBackoffInitialMs = 100;
constexpr uint32_t kBackoffMaxMs = 5000;

hub::PublishResult unavailable(std::string why) {
  return {hub::PublishError::Unavailable, std::move(why), 0};
}

}  // namespace

RedisPublisher::RedisPublisher(const config::Config& config, std::string address,
                               telemetry::Logger& logger, ChannelAudience* audience)
    : config_(config),
      address_(std::move(address)),
      logger_(logger),
      audience_(audience),
      originBase_((static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()) {}

RedisPublisher::~RedisPublisher() {
  stop();
}

void RedisPublisher::start() {
  thread_ = std::thread([this] { run(); });
}

void RedisPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<std::unique_ptr<Request>> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& request : left)
    request->done.set_value({unavailable("the router is shutting down")});
}

void RedisPublisher::recheck() {
  {
    std::lock_guard lock(mutex_);
    recheck_ = true;
  }
  wake_.notify_one();
}

std::optional<hub::PublishResult> RedisPublisher::refusal(const hub::Publication& publication) {
  if (std::optional<hub::PublishResult> refused = hub::refuseInvalidChannel(publication))
    return refused;
  // The message format separates fields with spaces (RedisMessage.h).
  if (publication.type.empty() || publication.type.find_first_of(" \n") != std::string::npos) {
    return hub::PublishResult{hub::PublishError::BadRequest,
                              "field 'type' must not be empty or hold spaces", 0};
  }
  if (!connected()) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    return unavailable("the broker (Redis) is unreachable; retry later");
  }
  return std::nullopt;
}

hub::PublishResult RedisPublisher::publish(const hub::Publication& publication,
                                           PublishRoute* route) {
  const hub::Publication* one = &publication;
  return std::move(publishBatch({&one, 1}, route).front());
}

std::vector<hub::PublishResult> RedisPublisher::publishBatch(
    std::span<const hub::Publication* const> publications, PublishRoute* route) {
  std::vector<hub::PublishResult> results(publications.size());
  // Runs of consecutive publications of one channel (a refused one in
  // between does not break a run: it gets no seq).
  struct Run {
    std::vector<size_t> members;  // indexes into `publications`
    std::future<Answer> answer;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < publications.size(); ++i) {
    if (std::optional<hub::PublishResult> refused = refusal(*publications[i])) {
      results[i] = std::move(*refused);
      continue;
    }
    if (runs.empty() || runs.back().members.size() >= kMaxRun ||
        publications[runs.back().members.front()]->channel != publications[i]->channel) {
      runs.emplace_back();
    }
    runs.back().members.push_back(i);
  }
  std::vector<std::unique_ptr<Request>> requests;
  requests.reserve(runs.size());
  const int64_t nowMs = hub::wallClockMs();
  const bool cluster = config_.broker.redis.mode == config::RedisMode::Cluster;
  std::vector<RunEntry> entries;
  // The traceparents the entries point at: where the trace goes on the wire.
  std::vector<std::string> traceparents;
  for (Run& run : runs) {
    entries.clear();
    traceparents.clear();
    traceparents.reserve(run.members.size());  // no reallocation under the entries' views
    for (size_t i : run.members) {
      const hub::Publication& publication = *publications[i];
      // Ids unique across instances: a random start each, then counted.
      uint64_t origin = originBase_ + originCount_.fetch_add(1, std::memory_order_relaxed);
      if (origin == 0) origin = 1;
      traceparents.push_back(publication.trace.valid()
                                 ? telemetry::formatTraceparent(publication.trace)
                                 : std::string());
      entries.push_back(
          {publication.type, publication.key, publication.data, origin, traceparents.back()});
    }
    const std::string& channel = publications[run.members.front()]->channel;
    auto request = std::make_unique<Request>();
    request->args = publishRunArguments(channel, entries, nowMs, config_.namespaceFor(channel),
                                        config_.broker.redis.channelTtlMs, cluster);
    request->channel = channel;
    request->count = run.members.size();
    request->asking = route != nullptr && route->asking;
    run.answer = request->done.get_future();
    requests.push_back(std::move(request));
  }
  if (!requests.empty()) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        for (auto& request : requests)
          request->done.set_value({unavailable("the router is shutting down")});
        requests.clear();
      }
      // All in the queue at once: the thread sends them in one pipeline.
      for (auto& request : requests)
        queue_.push_back(std::move(request));
    }
    wake_.notify_one();
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.broker.redis.commandTimeoutMs);
  for (Run& run : runs) {
    hub::PublishResult result;
    if (run.answer.wait_until(deadline) != std::future_status::ready) {
      // It may still be published: the publisher is told it is not known.
      failures_.fetch_add(run.members.size(), std::memory_order_relaxed);
      result =
          unavailable("the broker (Redis) did not answer within broker.redis.command_timeout_ms");
    } else {
      Answer got = run.answer.get();
      if (route != nullptr && (!got.redirectedTo.empty() || got.tryAgain)) {
        // Only for one run at a time (the cluster's route).
        route->redirectedTo = std::move(got.redirectedTo);
        route->ask = got.ask;
        route->tryAgain = got.tryAgain;
      } else if (got.result.error == hub::PublishError::Unavailable) {
        failures_.fetch_add(run.members.size(), std::memory_order_relaxed);
      }
      result = std::move(got.result);
    }
    // The run's seqs follow its first, in the order given.
    const uint64_t first = result.seq;
    for (size_t k = 0; k < run.members.size(); ++k) {
      results[run.members[k]] = result;
      if (result.ok()) results[run.members[k]].seq = first + k;
    }
  }
  return results;
}

bool RedisPublisher::connect(std::string& error) {
  if (!connection_.connect(config_.broker.redis, address_, error)) return false;
  Reply reply = connection_.command({"SCRIPT", "LOAD", std::string(publishScript())}, error);
  if (!reply) return false;
  if (reply->type != REDIS_REPLY_STRING) {
    error = "SCRIPT LOAD failed";
    if (reply->type == REDIS_REPLY_ERROR) error += ": " + std::string(reply->str, reply->len);
    connection_.close();
    return false;
  }
  sha_.assign(reply->str, reply->len);
  return true;
}

void RedisPublisher::fail(std::vector<std::unique_ptr<Request>>& requests, const std::string& why) {
  for (auto& request : requests) {
    if (request) request->done.set_value({unavailable(why)});
  }
  requests.clear();
}

void RedisPublisher::lost(const std::string& error) {
  connection_.close();
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (connected_.exchange(false)) {
    logger_.log(telemetry::LogLevel::Warn, "broker_disconnected",
                {{"connection", "publish"}, {"address", address_}, {"message", error}});
  }
}

void RedisPublisher::run() {
  Backoff backoff(kBackoffInitialMs, kBackoffMaxMs, std::random_device{}());
  bool everConnected = false;
  std::vector<std::unique_ptr<Request>> batch;
  while (true) {
    if (!connection_.connected()) {
      std::string error;
      if (connect(error)) {
        backoff.reset();
        if (everConnected) reconnects_.fetch_add(1, std::memory_order_relaxed);
        everConnected = true;
        connected_.store(true);
        logger_.log(telemetry::LogLevel::Info, "broker_connected",
                    {{"connection", "publish"}, {"address", address_}});
        attempted_.store(true, std::memory_order_release);
      } else {
        lost(error);
        attempted_.store(true, std::memory_order_release);
        std::unique_lock lock(mutex_);
        // Whoever queued before the connection was known lost gets an answer now.
        while (!queue_.empty()) {
          queue_.front()->done.set_value({unavailable("the broker (Redis) is unreachable")});
          queue_.pop_front();
        }
        wake_.wait_for(lock, std::chrono::milliseconds(backoff.nextMs()),
                       [this] { return stopping_; });
        if (stopping_) return;
        continue;
      }
    }
    {
      std::unique_lock lock(mutex_);
      // An idle connection is checked every probe interval (PING, bounded
      // by the command timeout), so that a Redis gone or stalled while
      // nobody publishes is noticed for readiness.
      const bool woken =
          wake_.wait_for(lock, std::chrono::milliseconds(config_.broker.redis.probeIntervalMs),
                         [this] { return stopping_ || recheck_ || !queue_.empty(); });
      if (stopping_) return;
      if (!woken || (recheck_ && queue_.empty())) {
        recheck_ = false;
        lock.unlock();
        std::string error;
        const uint64_t started = net::EventLoop::monotonicNs();
        if (!connection_.command({"PING"}, error)) lost(error);
        latency_.observe(net::EventLoop::monotonicNs() - started);
        continue;
      }
      size_t publications = 0;
      while (!queue_.empty() && batch.size() < kMaxBatch &&
             (batch.empty() || publications + queue_.front()->count <= kMaxBatchPublications)) {
        publications += queue_.front()->count;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    send(batch);
    batch.clear();
  }
}

void RedisPublisher::send(std::vector<std::unique_ptr<Request>>& batch) {
  std::vector<std::unique_ptr<Request>> again;  // NOSCRIPT: loaded again, then sent again
  const std::string lostWhy = "the broker (Redis) connection was lost";
  for (int attempt = 0; attempt < 2 && !batch.empty(); ++attempt) {
    const uint64_t started = net::EventLoop::monotonicNs();
    for (const auto& request : batch) {
      // ASK: this node serves the slot for this one command.
      if (request->asking) connection_.append({"ASKING"});
      std::vector<std::string> args;
      args.reserve(request->args.size() + 2);
      args.emplace_back("EVALSHA");
      args.push_back(sha_);
      args.insert(args.end(), request->args.begin(), request->args.end());
      connection_.append(args);
    }
    std::string error;
    if (!connection_.flush(error)) {
      lost(error);
      fail(batch, lostWhy);
      fail(again, lostWhy);
      return;
    }
    for (auto& request : batch) {
      if (request->asking && !connection_.next(error)) {
        lost(error);
        fail(batch, lostWhy);
        fail(again, lostWhy);
        return;
      }
      Reply reply = connection_.next(error);
      if (!reply) {
        lost(error);
        fail(batch, lostWhy);  // those answered are null by now
        fail(again, lostWhy);
        return;
      }
      bool noScript = false;
      const auto answer = parsePublishAnswer(reply.get(), error, noScript);
      std::optional<ClusterRedirect> redirect;
      if (answer) {
        if (audience_ != nullptr) {
          audience_->published(request->channel, answer->receivers,
                               net::EventLoop::monotonicNs() / 1'000'000);
        }
        request->done.set_value({{hub::PublishError::None, {}, answer->seq}});
        request.reset();
      } else if (noScript && attempt == 0) {
        again.push_back(std::move(request));
      } else if ((redirect = parseClusterRedirect(error)) || error.starts_with("TRYAGAIN")) {
        // Redis Cluster: the broker sends it again where it now belongs.
        Answer redirected{unavailable("the broker (Redis Cluster) redirected it: " + error)};
        redirected.tryAgain = !redirect;
        if (redirect) {
          redirected.redirectedTo = std::move(redirect->address);
          redirected.ask = redirect->ask;
        }
        request->done.set_value(std::move(redirected));
        request.reset();
      } else {
        errors_.fetch_add(1, std::memory_order_relaxed);
        request->done.set_value({unavailable("the broker (Redis) refused it: " + error)});
        request.reset();
      }
    }
    latency_.observe(net::EventLoop::monotonicNs() - started);
    batch.clear();
    if (again.empty()) return;
    batch.swap(again);
    Reply loaded = connection_.command({"SCRIPT", "LOAD", std::string(publishScript())}, error);
    if (!loaded) {
      lost(error);
      fail(batch, lostWhy);
      return;
    }
    if (loaded->type == REDIS_REPLY_STRING) sha_.assign(loaded->str, loaded->len);
  }
  fail(batch, "the broker (Redis) does not keep the publish script");
}

}  // namespace wsr::broker
