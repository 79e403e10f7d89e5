#include "broker/RedisSessionStore.h"

#include <chrono>
#include <map>
#include <random>

#include "broker/Backoff.h"

namespace wsr::broker {
namespace {

constexpr size_t kMaxBatch = 256;
constexpr uint32_t kBackoffInitialMs = 100;
constexpr uint32_t kBackoffMaxMs = 5000;

constexpr std::string_view kKeepScript =
    "redis.call('HSET', KEYS[1], 't', ARGV[1], 's', ARGV[2], 'd', ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "return 1\n";

// {0}: no such session; {1}: another token; {2}: another subject;
// {3, d}: taken (and deleted).
constexpr std::string_view kTakeScript =
    "local v = redis.call('HMGET', KEYS[1], 't', 's', 'd')\n"
    "if not v[1] then return {0} end\n"
    "if v[1] ~= ARGV[1] then return {1} end\n"
    "if v[2] ~= ARGV[2] then return {2} end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return {3, v[3]}\n";

uint64_t steadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

hub::TakeResult unavailable() {
  return {hub::TakeOutcome::Unavailable, {}};
}

// The take script's answer, as the hub knows it.
hub::TakeResult takeResult(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER) {
    return unavailable();
  }
  switch (reply->element[0]->integer) {
    case 0:
      return {hub::TakeOutcome::Unknown, {}};
    case 1:
      return {hub::TakeOutcome::WrongToken, {}};
    case 2:
      return {hub::TakeOutcome::OtherSubject, {}};
    default:
      break;
  }
  if (reply->elements < 2 || reply->element[1]->type != REDIS_REPLY_STRING) return unavailable();
  std::optional<hub::SavedSession> session =
      hub::decodeSavedSession({reply->element[1]->str, reply->element[1]->len});
  // Not one of ours (another tool wrote the key): as good as none.
  if (!session) return {hub::TakeOutcome::Unknown, {}};
  return {hub::TakeOutcome::Taken, std::move(*session)};
}

}  // namespace

std::string sessionKey(std::string_view id) {
  std::string key = "wsr:session:{";
  key += id;
  key += '}';
  return key;
}

RedisSessionStore::RedisSessionStore(const config::Config& config, telemetry::Logger& logger,
                                     AddressOf addressOf)
    : config_(config), logger_(logger), addressOf_(std::move(addressOf)) {}

RedisSessionStore::~RedisSessionStore() {
  stop();
}

void RedisSessionStore::start() {
  thread_ = std::thread([this] { run(); });
}

void RedisSessionStore::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Operation> left;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (Operation& operation : queue_)
      left.push_back(std::move(operation));
    queue_.clear();
  }
  fail(left);
}

void RedisSessionStore::enqueue(Operation&& operation) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      queue_.push_back(std::move(operation));
      wake_.notify_one();
      return;
    }
  }
  std::vector<Operation> refused;  // stopped: nobody will send it
  refused.push_back(std::move(operation));
  fail(refused);
}

void RedisSessionStore::keep(const std::string& id, const std::string& token,
                             const hub::SavedSession& session, uint64_t ttlMs) {
  kept_.fetch_add(1, std::memory_order_relaxed);
  Operation operation;
  operation.command = {"EVAL",
                       std::string(kKeepScript),
                       "1",
                       sessionKey(id),
                       token,
                       session.subject,
                       hub::encodeSavedSession(session),
                       std::to_string(ttlMs)};
  enqueue(std::move(operation));
}

void RedisSessionStore::take(const std::string& id, const std::string& token,
                             const std::string& subject,
                             std::function<void(hub::TakeResult)> done) {
  Operation operation;
  operation.command = {"EVAL", std::string(kTakeScript), "1", sessionKey(id), token, subject};
  operation.done = std::move(done);
  enqueue(std::move(operation));
}

hub::SessionStore::Counts RedisSessionStore::counts() const {
  Counts counts;
  counts.kept = kept_.load(std::memory_order_relaxed);
  counts.lost = lost_.load(std::memory_order_relaxed);
  return counts;
}

void RedisSessionStore::fail(std::vector<Operation>& batch) {
  for (Operation& operation : batch) {
    if (operation.done) {
      operation.done(unavailable());
    } else {
      lost_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  batch.clear();
}

void RedisSessionStore::run() {
  std::vector<Operation> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      // Stopping, the queue is still sent (the sessions of the connections
      // the shutdown closed) before the thread ends.
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) return;  // stopping, and nothing left to send
    // One pipeline per node that holds some of them.
    std::map<std::string, std::vector<Operation>> byNode;
    for (Operation& operation : batch)
      byNode[addressOf_(operation.command[3])].push_back(std::move(operation));
    batch.clear();
    for (auto& [address, operations] : byNode) {
      if (address.empty()) {  // cluster: no slot map yet
        fail(operations);
        continue;
      }
      Node& node = nodes_[address];
      if (!node.backoff)
        node.backoff =
            std::make_unique<Backoff>(kBackoffInitialMs, kBackoffMaxMs, std::random_device{}());
      if (!node.connection.connected()) {
        std::string error;
        // Within the backoff after a failure the work is answered at once
        // (a client falls back to since; a session is lost, and counted)
        // rather than held: nothing here waits for Redis to come back.
        if (steadyMs() < node.retryAtMs ||
            !node.connection.connect(config_.broker.redis, address, error)) {
          if (!error.empty()) {
            logger_.logLimited(
                telemetry::LogLevel::Warn, "broker_disconnected",
                {{"connection", "sessions"}, {"address", address}, {"message", error}});
            node.retryAtMs = steadyMs() + node.backoff->nextMs();
          }
          fail(operations);
          continue;
        }
        node.backoff->reset();
      }
      if (!send(node.connection, address, operations)) {
        node.retryAtMs = steadyMs() + node.backoff->nextMs();
        fail(operations);
      }
    }
  }
}

bool RedisSessionStore::send(RedisConnection& connection, const std::string& address,
                             std::vector<Operation>& batch) {
  for (const Operation& operation : batch)
    connection.append(operation.command);
  std::string error;
  if (!connection.flush(error)) {
    logger_.logLimited(telemetry::LogLevel::Warn, "broker_disconnected",
                       {{"connection", "sessions"}, {"address", address}, {"message", error}});
    return false;
  }
  size_t answered = 0;
  for (Operation& operation : batch) {
    Reply reply = connection.next(error);
    if (!reply) {
      logger_.logLimited(telemetry::LogLevel::Warn, "broker_disconnected",
                         {{"connection", "sessions"}, {"address", address}, {"message", error}});
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(answered));
      return false;
    }
    ++answered;
    if (operation.done) {
      // A MOVED (the slot left this node) reads as unavailable: the client
      // subscribes again with since; the map is fresh for the next one.
      operation.done(takeResult(reply.get()));
      operation.done = nullptr;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      lost_.fetch_add(1, std::memory_order_relaxed);
      logger_.logLimited(telemetry::LogLevel::Warn, "resume_session_not_kept",
                         {{"address", address}, {"message", std::string(reply->str, reply->len)}});
    }
  }
  batch.clear();
  return true;
}

}  // namespace wsr::broker
