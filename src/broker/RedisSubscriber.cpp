#include "broker/RedisSubscriber.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "broker/Backoff.h"
#include "broker/ClusterRedirect.h"
#include "broker/ClusterSlot.h"
#include "broker/RedisKeys.h"
#include "broker/RedisMessage.h"
#include "broker/RedisScript.h"
#include "net/EventLoop.h"

namespace wsr::broker {
namespace {

constexpr uint32_t kBackoffInitialMs = 100;
constexpr uint32_t kBackoffMaxMs = 5000;
// The longest the thread waits for Redis before looking at lingering
// channels again (a change wakes it at once).
constexpr int kTurnMs = 100;
// Channels per SUBSCRIBE when subscribing again after a reconnection.
constexpr size_t kChannelsPerSubscribe = 500;

std::string_view text(const redisReply* reply) {
  if (reply == nullptr || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS))
    return {};
  return {reply->str, reply->len};
}

uint64_t number(const redisReply* reply) {
  uint64_t out = 0;
  for (char c : text(reply)) {
    if (c < '0' || c > '9') return 0;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return out;
}

}  // namespace

RedisSubscriber::RedisSubscriber(const config::Config& config, std::string address, hub::Hub& hub,
                                 telemetry::Logger& logger, std::function<void()> lost, Moved moved)
    : config_(config),
      address_(std::move(address)),
      hub_(hub),
      logger_(logger),
      onLost_(std::move(lost)),
      onMoved_(std::move(moved)),
      cluster_(config.broker.redis.mode == config::RedisMode::Cluster),
      wakeFd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

RedisSubscriber::~RedisSubscriber() {
  stop();
}

void RedisSubscriber::start() {
  thread_ = std::thread([this] { run(); });
}

void RedisSubscriber::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wakeFd_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void RedisSubscriber::watched(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    changes_.push_back({channel, true});
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wakeFd_.get(), &one, sizeof one);
}

void RedisSubscriber::unwatched(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    changes_.push_back({channel, false});
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wakeFd_.get(), &one, sizeof one);
}

void RedisSubscriber::release(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    changes_.push_back({channel, false, true});
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wakeFd_.get(), &one, sizeof one);
}

bool RedisSubscriber::connect(std::string& error) {
  if (!subscription_.connect(config_.broker.redis, address_, error)) return false;
  if (!reader_.connect(config_.broker.redis, address_, error)) {
    subscription_.close();
    return false;
  }
  failed_ = false;
  probing_ = false;
  nextProbeMs_ = net::EventLoop::monotonicMs() + config_.broker.redis.probeIntervalMs;
  unsubscribing_.clear();
  // Every channel again; each is caught up when Redis confirms it.
  // Sharded pub/sub takes one slot per command: one channel each.
  std::vector<std::string> command{"SUBSCRIBE"};
  catchingUp_ = subscribed_.size();
  for (auto& [name, state] : subscribed_) {
    state.confirmed = false;
    state.catchingUp = true;
    if (cluster_) {
      subscribe(name);
      continue;
    }
    command.push_back(pubsubChannel(name));
    if (command.size() > kChannelsPerSubscribe) {
      send(command);
      command.resize(1);
    }
  }
  if (command.size() > 1) send(command);
  return !failed_;
}

void RedisSubscriber::lost(const std::string& error) {
  subscription_.close();
  reader_.close();
  errors_.fetch_add(1, std::memory_order_relaxed);
  caughtUp_.store(false);
  if (connected_.exchange(false)) {
    logger_.log(telemetry::LogLevel::Warn, "broker_disconnected",
                {{"connection", "subscribe"}, {"address", address_}, {"message", error}});
    if (onLost_) onLost_();
  }
}

void RedisSubscriber::send(const std::vector<std::string>& command) {
  if (!subscription_.connected() || failed_) return;
  subscription_.append(command);
  std::string error;
  if (!subscription_.flush(error)) failed_ = true;
}

void RedisSubscriber::subscribe(const std::string& channel) {
  send({cluster_ ? "SSUBSCRIBE" : "SUBSCRIBE", pubsubChannel(channel)});
}

void RedisSubscriber::unsubscribe(const std::string& channel) {
  if (cluster_ && subscription_.connected()) ++unsubscribing_[channel];
  send({cluster_ ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", pubsubChannel(channel)});
}

void RedisSubscriber::handOff(const std::string& channel, const std::string& movedTo) {
  auto it = subscribed_.find(channel);
  if (it == subscribed_.end()) return;
  if (it->second.catchingUp) caughtUpOne();
  subscribed_.erase(it);
  subscribedCount_.store(subscribed_.size(), std::memory_order_relaxed);
  logger_.log(telemetry::LogLevel::Info, "broker_channel_moved",
              {{"channel", channel}, {"from", address_}, {"to", movedTo}});
  if (onMoved_) onMoved_(channel, movedTo);
}

void RedisSubscriber::run() {
  Backoff backoff(kBackoffInitialMs, kBackoffMaxMs, std::random_device{}());
  bool everConnected = false;
  uint64_t nextAttemptMs = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    applyChanges();
    if (failed_) lost("the connection to Redis failed");
    if (!subscription_.connected()) {
      const uint64_t now = net::EventLoop::monotonicMs();
      if (now < nextAttemptMs) {
        receive(static_cast<int>(std::min<uint64_t>(nextAttemptMs - now, kTurnMs)));
        continue;
      }
      std::string error;
      if (!connect(error)) {
        lost(error);
        attempted_.store(true, std::memory_order_release);
        nextAttemptMs = net::EventLoop::monotonicMs() + backoff.nextMs();
        continue;
      }
      backoff.reset();
      if (everConnected) reconnects_.fetch_add(1, std::memory_order_relaxed);
      everConnected = true;
      connected_.store(true);
      if (catchingUp_ == 0) caughtUp_.store(true);
      logger_.log(telemetry::LogLevel::Info, "broker_connected",
                  {{"connection", "subscribe"},
                   {"address", address_},
                   {"channels", static_cast<uint64_t>(subscribed_.size())}});
      attempted_.store(true, std::memory_order_release);
    }
    expireLingering();
    probe();
    if (!receive(kTurnMs)) failed_ = true;
  }
}

void RedisSubscriber::probe() {
  if (!subscription_.connected() || failed_) return;
  const uint64_t now = net::EventLoop::monotonicMs();
  if (probing_) {
    const uint64_t waitedMs = (net::EventLoop::monotonicNs() - probeSentNs_) / 1000000;
    if (waitedMs <= config_.broker.redis.commandTimeoutMs) return;
    // The thread may have been busy (channels caught up one round trip
    // each after a reconnection) while the answer waited in the socket:
    // what is there is read before Redis is blamed.
    if (!receive(0)) {
      failed_ = true;
      return;
    }
    if (probing_ && subscription_.connected()) {
      lost("Redis did not answer PING within broker.redis.command_timeout_ms");
    }
    return;
  }
  if (now < nextProbeMs_) return;
  send({"PING"});
  probing_ = true;
  probeSentNs_ = net::EventLoop::monotonicNs();
}

void RedisSubscriber::answered() {
  if (!probing_) return;
  probing_ = false;
  latency_.observe(net::EventLoop::monotonicNs() - probeSentNs_);
  nextProbeMs_ = net::EventLoop::monotonicMs() + config_.broker.redis.probeIntervalMs;
}

void RedisSubscriber::applyChanges() {
  std::vector<Change> changes;
  {
    std::lock_guard lock(mutex_);
    changes.swap(changes_);
  }
  const uint64_t now = net::EventLoop::monotonicMs();
  for (const Change& change : changes) {
    if (change.released) {
      auto it = subscribed_.find(change.channel);
      if (it == subscribed_.end()) continue;
      if (it->second.confirmed && subscription_.connected()) unsubscribe(change.channel);
      if (it->second.catchingUp) caughtUpOne();
      subscribed_.erase(it);
    } else if (change.watched) {
      auto [it, inserted] = subscribed_.try_emplace(change.channel);
      it->second.lingering = false;
      if (inserted) {
        subscribe(change.channel);
      } else if (it->second.confirmed && subscription_.connected()) {
        // Still subscribed from before (lingering): a new mirror is primed now.
        std::shared_ptr<hub::Channel> channel = hub_.find(change.channel);
        if (channel && !channel->primed() && !sync(change.channel)) failed_ = true;
      }
    } else if (auto it = subscribed_.find(change.channel); it != subscribed_.end()) {
      it->second.lingering = true;
      it->second.lingerUntilMs = now + config_.broker.redis.unsubscribeLingerMs;
    }
  }
  subscribedCount_.store(subscribed_.size(), std::memory_order_relaxed);
}

void RedisSubscriber::expireLingering() {
  const uint64_t now = net::EventLoop::monotonicMs();
  for (auto it = subscribed_.begin(); it != subscribed_.end();) {
    if (!it->second.lingering || it->second.lingerUntilMs > now) {
      ++it;
      continue;
    }
    std::shared_ptr<hub::Channel> channel = hub_.find(it->first);
    // unprime() refuses when a worker came back meanwhile (its `watched`
    // is queued): the channel stays subscribed.
    if (channel && !channel->unprime()) {
      it->second.lingering = false;
      ++it;
      continue;
    }
    unsubscribe(it->first);
    if (it->second.catchingUp) caughtUpOne();
    it = subscribed_.erase(it);
  }
  subscribedCount_.store(subscribed_.size(), std::memory_order_relaxed);
}

bool RedisSubscriber::receive(int timeoutMs) {
  std::string error;
  auto drain = [&]() -> bool {
    while (subscription_.connected()) {
      Reply reply = subscription_.buffered(error);
      if (!subscription_.connected()) return false;
      if (!reply) return true;
      handle(*reply);
      if (failed_) return false;
    }
    return true;
  };
  if (subscription_.connected() && !drain()) return false;
  pollfd fds[2] = {{wakeFd_.get(), POLLIN, 0}, {subscription_.fd(), POLLIN, 0}};
  const nfds_t count = subscription_.connected() ? 2 : 1;
  if (::poll(fds, count, timeoutMs) <= 0) return true;
  if ((fds[0].revents & POLLIN) != 0) {
    uint64_t value = 0;
    [[maybe_unused]] ssize_t got = ::read(wakeFd_.get(), &value, sizeof value);
  }
  if (count == 2 && fds[1].revents != 0) {
    if (redisBufferRead(subscription_.context()) != REDIS_OK) {
      lost(std::string("Redis read failed: ") + subscription_.context()->errstr);
      return true;  // lost() closed it; the next turn reconnects
    }
    return drain();
  }
  return true;
}

void RedisSubscriber::handle(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR && cluster_) {
    // MOVED <slot> <node>: an SSUBSCRIBE reached a node that no longer
    // serves the slot; the unconfirmed channels of that slot go there.
    if (std::optional<ClusterRedirect> moved =
            parseClusterRedirect(std::string_view(reply.str, reply.len))) {
      std::vector<std::string> leaving;
      for (const auto& [name, state] : subscribed_) {
        if (!state.confirmed && channelSlot(name) == moved->slot) leaving.push_back(name);
      }
      for (const std::string& name : leaving)
        handOff(name, moved->address);
      return;
    }
  }
  if (reply.type == REDIS_REPLY_ERROR) {
    // NOAUTH, a refused SUBSCRIBE: nothing on this connection can be
    // trusted to arrive; start again (with backoff).
    logger_.log(telemetry::LogLevel::Error, "broker_error",
                {{"connection", "subscribe"}, {"message", std::string(reply.str, reply.len)}});
    failed_ = true;
    return;
  }
  // PING's answer: +PONG while subscribed to nothing, a ["pong", ""] push
  // otherwise.
  if (reply.type == REDIS_REPLY_STATUS && text(&reply) == "PONG") {
    answered();
    return;
  }
  if (reply.type == REDIS_REPLY_ARRAY && reply.elements == 2 && text(reply.element[0]) == "pong") {
    answered();
    return;
  }
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3) return;
  const std::string_view kind = text(reply.element[0]);
  const std::string_view name = channelOfPubsub(text(reply.element[1]));
  if (name.empty()) return;
  if (kind == "message" || kind == "smessage") {
    // One publication, or a run of them (RedisMessage.h), in seq order.
    std::optional<std::vector<RedisMessage>> messages = decodeRedisMessages(text(reply.element[2]));
    if (!messages) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::shared_ptr<hub::Channel> channel = hub_.find(name);
    if (!channel) return;
    for (RedisMessage& message : *messages) {
      message.publication.channel = std::string(name);
      accept(*channel, message, false);
    }
  } else if (kind == "subscribe" || kind == "ssubscribe") {
    const std::string channel(name);
    auto it = subscribed_.find(channel);
    if (it == subscribed_.end() || it->second.confirmed) return;
    it->second.confirmed = true;
    if (!sync(channel)) {
      failed_ = true;
      return;
    }
    it = subscribed_.find(channel);  // sync() may have handed it off
    if (it != subscribed_.end() && std::exchange(it->second.catchingUp, false)) caughtUpOne();
  } else if (kind == "sunsubscribe") {
    const std::string channel(name);
    if (auto pending = unsubscribing_.find(channel); pending != unsubscribing_.end()) {
      if (--pending->second == 0) unsubscribing_.erase(pending);
      return;  // the answer to ours
    }
    handOff(channel, {});  // nobody here asked: its slot moved
  }
}

void RedisSubscriber::caughtUpOne() {
  if (catchingUp_ > 0 && --catchingUp_ == 0 && subscription_.connected()) caughtUp_.store(true);
}

bool RedisSubscriber::sync(const std::string& name) {
  std::shared_ptr<hub::Channel> channel = hub_.find(name);
  if (!channel) return true;  // nobody here waits for it
  const config::NamespaceConfig& settings = channel->config();
  const uint64_t started = net::EventLoop::monotonicNs();
  reader_.append({"HMGET", seqKey(name), "seq", "epoch"});
  if (settings.historySize > 0) {
    reader_.append(
        {"XREVRANGE", streamKey(name), "+", "-", "COUNT", std::to_string(settings.historySize)});
  }
  if (settings.retainLast) reader_.append({"GET", lastKey(name)});
  std::string error;
  if (!reader_.flush(error)) return false;
  Reply meta = reader_.next(error);
  if (!meta) return false;
  Reply stream;
  if (settings.historySize > 0 && !(stream = reader_.next(error))) return false;
  Reply last;
  if (settings.retainLast && !(last = reader_.next(error))) return false;
  latency_.observe(net::EventLoop::monotonicNs() - started);
  for (const Reply* reply : {&meta, &stream, &last}) {
    if (*reply && (*reply)->type == REDIS_REPLY_ERROR && cluster_) {
      // The slot moved since the SSUBSCRIBE was confirmed: the new owner
      // reads it (Redis sends this connection an sunsubscribe too).
      if (std::optional<ClusterRedirect> moved =
              parseClusterRedirect(std::string_view((*reply)->str, (*reply)->len))) {
        handOff(name, moved->address);
        return true;
      }
    }
    if (*reply && (*reply)->type == REDIS_REPLY_ERROR) {
      logger_.log(telemetry::LogLevel::Error, "broker_error",
                  {{"connection", "read"},
                   {"channel", name},
                   {"message", std::string((*reply)->str, (*reply)->len)}});
      return false;
    }
  }

  uint64_t seq = 0;
  uint64_t epoch = 0;
  if (meta->type == REDIS_REPLY_ARRAY && meta->elements == 2) {
    seq = number(meta->element[0]);
    epoch = number(meta->element[1]);
  }
  // The stream, oldest first, of the current epoch only.
  std::vector<RedisMessage> held;
  if (stream && stream->type == REDIS_REPLY_ARRAY) {
    for (size_t i = stream->elements; i-- > 0;) {
      const redisReply* entry = stream->element[i];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      const redisReply* fields = entry->element[1];
      if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) continue;
      std::optional<RedisMessage> message = decodeRedisMessage(text(fields->element[1]));
      if (message && message->epoch == epoch) held.push_back(std::move(*message));
    }
  }
  std::optional<RedisMessage> retained;
  if (last && last->type == REDIS_REPLY_STRING) {
    retained = decodeRedisMessage(text(last.get()));
    if (retained && retained->epoch != epoch) retained.reset();
  }
  for (RedisMessage& message : held)
    message.publication.channel = name;
  if (retained) retained->publication.channel = name;

  if (!channel->primed()) {
    std::vector<std::shared_ptr<const hub::PublishedMessage>> history;
    history.reserve(held.size());
    for (const RedisMessage& message : held)
      history.push_back(
          hub_.rebuild(message.publication, message.seq, message.tsMs, message.origin));
    std::shared_ptr<const hub::PublishedMessage> value;
    if (retained) {
      value = !history.empty() && history.back()->seq == retained->seq
                  ? history.back()
                  : hub_.rebuild(retained->publication, retained->seq, retained->tsMs,
                                 retained->origin);
    }
    hub_.prime(*channel, epoch, seq, history, std::move(value));
    return true;
  }
  // Caught up after a reconnection: what is already here is a duplicate,
  // what the stream no longer holds a hole, another epoch a restart.
  // Another epoch and nothing of it yet (Redis came back empty): what the
  // mirror holds of the old numbering is served no more.
  const uint64_t mirrored = channel->epoch();
  if (mirrored != 0 && epoch != mirrored && held.empty() && !retained) channel->forgetStored();
  if (mirrored != 0 && epoch == mirrored && seq < channel->seq()) {
    // Redis's count went back under the same epoch: it lost publications
    // this mirror had (a failover to a replica that missed them).
    restartNumbering(name, epoch, "Redis's seq is below what this instance had");
    return true;
  }
  if (retained && (held.empty() || retained->seq > held.back().seq)) {
    held.push_back(std::move(*retained));
  }
  for (const RedisMessage& message : held)
    accept(*channel, message, true);
  return true;
}

void RedisSubscriber::accept(hub::Channel& channel, const RedisMessage& message, bool replay) {
  // This thread is the mirror's only publisher: its seq stays until accept().
  const uint64_t before = channel.seq();
  switch (hub_.accept(channel, message.publication, message.epoch, message.seq, message.tsMs,
                      message.origin)) {
    case hub::Channel::Accepted::Next:
      if (replay) replayed_.fetch_add(1, std::memory_order_relaxed);
      break;
    case hub::Channel::Accepted::Hole:
      lostSeqs_.fetch_add(message.seq - before - 1, std::memory_order_relaxed);
      if (replay) replayed_.fetch_add(1, std::memory_order_relaxed);
      break;
    case hub::Channel::Accepted::Restart:
      epochChanges_.fetch_add(1, std::memory_order_relaxed);
      break;
    case hub::Channel::Accepted::Diverged:
      restartNumbering(channel.name(), message.epoch, "a seq came again as another publication");
      break;
    case hub::Channel::Accepted::Ignored:
    case hub::Channel::Accepted::Duplicate:
      break;
  }
}

void RedisSubscriber::restartNumbering(const std::string& channel, uint64_t epoch,
                                       std::string_view why) {
  conflicts_.fetch_add(1, std::memory_order_relaxed);
  logger_.logLimited(telemetry::LogLevel::Error, "broker_numbering_conflict",
                     {{"channel", channel},
                      {"address", address_},
                      {"message", why},
                      {"effect", "numbering restarted: the next publication starts a new epoch"}});
  // Only if nobody restarted it meanwhile (the epoch is still the one the
  // conflict was seen in): seq 0 makes the publish script start a new
  // epoch with the next publication, and drop the old stream and value.
  std::string error;
  Reply reply = reader_.command(
      {"EVAL", std::string(restartNumberingScript()), "1", seqKey(channel), std::to_string(epoch)},
      error);
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    logger_.logLimited(telemetry::LogLevel::Error, "broker_error",
                       {{"connection", "read"},
                        {"channel", channel},
                        {"message", reply ? std::string(reply->str, reply->len) : error}});
  }
}

}  // namespace wsr::broker
