#include "broker/RedisBroker.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "broker/ClusterSlot.h"
#include "broker/ShardChoice.h"
#include "hub/PublishSpan.h"
#include "net/EventLoop.h"
#include "telemetry/TraceContext.h"

namespace wsr::broker {
namespace {

// Redirections (MOVED, ASK) one publication follows at most.
constexpr int kMaxRedirections = 5;
// After TRYAGAIN (its slot is between two nodes, keys partly moved) a
// publication is sent again after this long, until the command timeout.
constexpr auto kTryAgainDelay = std::chrono::milliseconds(10);

hub::PublishResult unavailable(std::string why) {
  return {hub::PublishError::Unavailable, std::move(why), 0};
}

// The message carries the broker.publish span's context in place of the
// request's (its parent), so that the fan-out spans of every instance
// (Hub::accept) are children of the span that published it, sampled or not
// as it is.
void carrySpan(hub::Publication& publication, const telemetry::ActiveSpan& span) {
  if (span.context().valid()) publication.trace = span.context();
}

}  // namespace

RedisBroker::Shard::Shard(const config::Config& config, const std::string& address, hub::Hub& hub,
                          telemetry::Logger& logger, ChannelAudience& audience,
                          RedisSubscriber::Moved moved)
    : publisher(config, address, logger, &audience),
      // A lost subscription makes the publisher check its own connection
      // to the same Redis at once.
      subscriber(
          config, address, hub, logger, [this] { publisher.recheck(); }, std::move(moved)) {}

RedisBroker::RedisBroker(const config::Config& config, hub::Hub& hub, telemetry::Logger& logger)
    : config_(config),
      hub_(hub),
      logger_(logger),
      tracer_(hub.tracer()),
      mode_(config.broker.redis.mode),
      sessions_(config, logger, [this](const std::string& key) { return sessionNode(key); }) {
  const std::vector<std::string>& addresses = config.broker.redis.addresses;
  if (mode_ == config::RedisMode::Cluster) {
    // The masters come from the slot map; the addresses are only seeds.
    topology_ = std::make_unique<ClusterTopology>(
        config, logger, [this](const std::shared_ptr<const ClusterSlotMap>& map, bool differs) {
          mapChanged(map, differs);
        });
  } else {
    const size_t count = mode_ == config::RedisMode::Sharded ? addresses.size() : 1;
    for (size_t i = 0; i < count && i < addresses.size(); ++i)
      ordered_.push_back(shardAt(addresses[i]));
  }
  hub.mirror(*this);
  hub.keepSessionsIn(sessions_);
}

RedisBroker::~RedisBroker() {
  stop();
}

RedisBroker::Shard* RedisBroker::findShard(const std::string& address) const {
  std::shared_lock lock(shardsMutex_);
  auto it = shards_.find(address);
  return it == shards_.end() ? nullptr : it->second.get();
}

RedisBroker::Shard* RedisBroker::shardAt(const std::string& address) {
  if (Shard* known = findShard(address)) return known;
  std::unique_lock lock(shardsMutex_);
  if (stopping_) return nullptr;
  auto& slot = shards_[address];
  if (!slot) {
    slot = std::make_unique<Shard>(config_, address, hub_, logger_, audience_,
                                   [this](const std::string& channel, const std::string& movedTo) {
                                     moved(channel, movedTo);
                                   });
    if (started_) {
      slot->publisher.start();
      slot->subscriber.start();
    }
  }
  return slot.get();
}

std::vector<RedisBroker::Shard*> RedisBroker::allShards() const {
  std::shared_lock lock(shardsMutex_);
  std::vector<Shard*> out;
  out.reserve(shards_.size());
  for (const auto& [address, shard] : shards_)
    out.push_back(shard.get());
  return out;
}

bool RedisBroker::hasSubscribers(std::string_view channel) const {
  return hub_.hasSubscribers(channel) ||
         audience_.mayListen(channel, net::EventLoop::monotonicNs() / 1'000'000);
}

hub::PublishResult RedisBroker::publish(hub::Publication&& publication) {
  // This instance's workers are behind: refused before Redis numbers it,
  // as the memory broker does (the other instances would fan it out, but
  // the publisher is to back off either way).
  if (std::optional<hub::PublishResult> refused = hub_.overloaded()) return std::move(*refused);
  if (tracer_ == nullptr) return route(publication);
  telemetry::ActiveSpan span = hub::startPublishSpan(*tracer_, publication, "redis");
  carrySpan(publication, span);
  hub::PublishResult result = route(publication);
  hub::endPublishSpan(span, result);
  return result;
}

std::vector<hub::PublishResult> RedisBroker::publishBatch(
    std::vector<hub::Publication>&& publications) {
  if (std::optional<hub::PublishResult> refused = hub_.overloaded()) {
    return std::vector<hub::PublishResult>(publications.size(), *refused);
  }
  if (tracer_ == nullptr) return routeBatch(publications);
  std::vector<telemetry::ActiveSpan> spans;
  spans.reserve(publications.size());
  for (hub::Publication& publication : publications) {
    spans.push_back(hub::startPublishSpan(*tracer_, publication, "redis"));
    carrySpan(publication, spans.back());
  }
  std::vector<hub::PublishResult> results = routeBatch(publications);
  for (size_t i = 0; i < spans.size(); ++i)
    hub::endPublishSpan(spans[i], results[i]);
  return results;
}

std::vector<hub::PublishResult> RedisBroker::routeBatch(
    const std::vector<hub::Publication>& publications) {
  std::vector<hub::PublishResult> results(publications.size());
  if (mode_ == config::RedisMode::Cluster) {
    // Each run of a channel may be redirected on its own way: one after
    // the other (a run is one slot, one script call).
    std::vector<const hub::Publication*> run;
    for (size_t begin = 0; begin < publications.size();) {
      size_t end = begin + 1;
      while (end < publications.size() && end - begin < RedisPublisher::kMaxRun &&
             publications[end].channel == publications[begin].channel)
        ++end;
      run.clear();
      for (size_t i = begin; i < end; ++i)
        run.push_back(&publications[i]);
      std::vector<hub::PublishResult> got = routeInCluster(run);
      for (size_t k = 0; k < got.size(); ++k)
        results[begin + k] = std::move(got[k]);
      begin = end;
    }
    return results;
  }
  std::vector<std::vector<size_t>> byShard(ordered_.size());
  for (size_t i = 0; i < publications.size(); ++i) {
    const size_t shard =
        mode_ == config::RedisMode::Sharded ? shardOf(publications[i].channel, ordered_.size()) : 0;
    byShard[shard].push_back(i);
  }
  std::vector<const hub::Publication*> group;
  for (size_t shard = 0; shard < byShard.size(); ++shard) {
    if (byShard[shard].empty()) continue;
    group.clear();
    for (size_t i : byShard[shard])
      group.push_back(&publications[i]);
    std::vector<hub::PublishResult> got = ordered_[shard]->publisher.publishBatch(group);
    for (size_t k = 0; k < got.size(); ++k)
      results[byShard[shard][k]] = std::move(got[k]);
  }
  return results;
}

std::string RedisBroker::sessionNode(const std::string& key) const {
  switch (mode_) {
    case config::RedisMode::Standalone:
      return ordered_.front()->publisher.address();
    case config::RedisMode::Sharded: {
      // The key's hash tag, as a channel's: the session id.
      const size_t open = key.find('{');
      const size_t close = key.find('}', open);
      const std::string_view id = std::string_view(key).substr(open + 1, close - open - 1);
      return ordered_[shardOf(id, ordered_.size())]->publisher.address();
    }
    case config::RedisMode::Cluster:
      break;
  }
  std::shared_ptr<const ClusterSlotMap> map = topology_->current();
  return map ? map->owner(keySlot(key)) : std::string();
}

hub::PublishResult RedisBroker::route(const hub::Publication& publication) {
  switch (mode_) {
    case config::RedisMode::Standalone:
      return ordered_.front()->publisher.publish(publication);
    case config::RedisMode::Sharded:
      return ordered_[shardOf(publication.channel, ordered_.size())]->publisher.publish(
          publication);
    case config::RedisMode::Cluster:
      break;
  }
  const hub::Publication* one = &publication;
  return std::move(routeInCluster({&one, 1}).front());
}

std::vector<hub::PublishResult> RedisBroker::routeInCluster(
    std::span<const hub::Publication* const> run) {
  const std::string& channel = run.front()->channel;
  std::shared_ptr<const ClusterSlotMap> map = topology_->current();
  if (!map) {
    return std::vector<hub::PublishResult>(
        run.size(),
        unavailable("the broker (Redis Cluster) slot map is not known yet; retry later"));
  }
  std::string address = map->ownerOfChannel(channel);
  bool asking = false;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.broker.redis.commandTimeoutMs);
  std::vector<hub::PublishResult> result(
      run.size(), unavailable("the broker (Redis Cluster) redirected it too often"));
  for (int hops = 0; hops <= kMaxRedirections;) {
    Shard* shard = shardAt(address);
    if (shard == nullptr) {
      return std::vector<hub::PublishResult>(run.size(),
                                             unavailable("the router is shutting down"));
    }
    if (!shard->publisher.attempted()) {
      // A node first heard of from a redirection: its first connection
      // attempt is awaited (this is a publisher's thread, not a worker).
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(config_.broker.redis.connectTimeoutMs);
      while (!shard->publisher.attempted() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    PublishRoute redirect;
    redirect.asking = asking;
    result = shard->publisher.publishBatch(run, &redirect);
    if (!redirect.redirectedTo.empty()) {
      if (!redirect.ask) topology_->refresh();  // MOVED: the map is stale
      address = redirect.redirectedTo;
      asking = redirect.ask;
      ++hops;
      continue;
    }
    if (!redirect.tryAgain) {
      // A node unreachable may have failed over: the map says soon.
      if (!shard->publisher.connected()) topology_->refresh();
      return result;
    }
    if (std::chrono::steady_clock::now() + kTryAgainDelay > deadline) break;
    std::this_thread::sleep_for(kTryAgainDelay);
    asking = false;
    if (std::shared_ptr<const ClusterSlotMap> now = topology_->current())
      address = now->ownerOfChannel(channel);
  }
  return result;
}

void RedisBroker::watched(const std::string& channel) {
  if (mode_ != config::RedisMode::Cluster) {
    const size_t index =
        mode_ == config::RedisMode::Sharded ? shardOf(channel, ordered_.size()) : 0;
    ordered_[index]->subscriber.watched(channel);
    return;
  }
  std::lock_guard lock(clusterMutex_);
  watched_.insert(channel);
  place(channel);
}

void RedisBroker::unwatched(const std::string& channel) {
  if (mode_ != config::RedisMode::Cluster) {
    const size_t index =
        mode_ == config::RedisMode::Sharded ? shardOf(channel, ordered_.size()) : 0;
    ordered_[index]->subscriber.unwatched(channel);
    return;
  }
  std::lock_guard lock(clusterMutex_);
  watched_.erase(channel);
  homeless_.erase(channel);
  // Forgotten here (its subscriber lingers, then unsubscribes, on its
  // own): a channel watched again is placed by the slot map of then, and
  // a slot map change moves watched channels only.
  if (auto it = placed_.find(channel); it != placed_.end()) {
    it->second->subscriber.unwatched(channel);
    placed_.erase(it);
  }
}

void RedisBroker::place(const std::string& channel) {
  // A worker's thread may be here: nothing blocks, no shard is made (the
  // slot map's masters have theirs already).
  std::shared_ptr<const ClusterSlotMap> map = topology_->current();
  Shard* shard = map ? findShard(map->ownerOfChannel(channel)) : nullptr;
  if (shard == nullptr) {
    homeless_.insert(channel);
    topology_->refresh();
    return;
  }
  homeless_.erase(channel);
  placed_[channel] = shard;
  shard->subscriber.watched(channel);
}

void RedisBroker::mapChanged(const std::shared_ptr<const ClusterSlotMap>& map, bool differs) {
  for (const std::string& master : map->masters())
    shardAt(master);
  std::lock_guard lock(clusterMutex_);
  if (differs) {
    // A channel whose slot another master serves now moves there: after a
    // failover its old master says nothing (a resharding's sunsubscribe
    // may come first or after; both ends agree). Only when the map changed:
    // it is a pass over every channel.
    for (auto& [channel, shard] : placed_) {
      Shard* owner = findShard(map->ownerOfChannel(channel));
      if (owner == nullptr || owner == shard) continue;
      shard->subscriber.release(channel);
      shard = owner;
      owner->subscriber.watched(channel);
    }
  }
  const std::set<std::string> waiting = homeless_;
  for (const std::string& channel : waiting)
    place(channel);
}

void RedisBroker::moved(const std::string& channel, const std::string& movedTo) {
  // On the old owner's subscriber thread, which has forgotten the channel.
  topology_->refresh();
  Shard* target = movedTo.empty() ? nullptr : shardAt(movedTo);
  std::lock_guard lock(clusterMutex_);
  placed_.erase(channel);
  if (!watched_.contains(channel)) return;  // it was lingering: nobody wants it now
  if (target == nullptr) {
    // Redis did not say where (sunsubscribe): the next slot map does.
    homeless_.insert(channel);
    return;
  }
  placed_[channel] = target;
  target->subscriber.watched(channel);
}

bool RedisBroker::start(std::string& /*error*/) {
  // An unreachable Redis does not stop the start: the instance is unready
  // until it connects, and keeps trying. A reachable one is connected
  // before the router says it serves (the first attempts are awaited,
  // bounded by the connect timeout; the shards connect side by side).
  {
    std::unique_lock lock(shardsMutex_);
    started_ = true;
    for (auto& [address, shard] : shards_) {
      shard->publisher.start();
      shard->subscriber.start();
    }
  }
  sessions_.start();
  const uint32_t connectMs = config_.broker.redis.connectTimeoutMs;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2 * connectMs + 100);
  if (topology_) {
    topology_->start();
    // The seeds' first round, then the masters it found.
    const auto seeds = config_.broker.redis.addresses.size();
    const auto mapDeadline = std::chrono::steady_clock::now() +
                             std::chrono::milliseconds(size_t{2} * connectMs * seeds + 100);
    while (!topology_->attempted() && std::chrono::steady_clock::now() < mapDeadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2 * connectMs + 100);
  }
  auto attempted = [this] {
    for (const Shard* shard : allShards()) {
      if (!shard->publisher.attempted() || !shard->subscriber.attempted()) return false;
    }
    return true;
  };
  while (!attempted() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void RedisBroker::stop() {
  // The topology first: it makes shards.
  if (topology_) topology_->stop();
  {
    std::unique_lock lock(shardsMutex_);
    stopping_ = true;
  }
  for (Shard* shard : allShards()) {
    shard->publisher.stop();
    shard->subscriber.stop();
  }
  // Last: the sessions of the clients the shutdown closed are still
  // written (cluster: to the nodes of the last slot map).
  sessions_.stop();
}

bool RedisBroker::ready(std::string& detail) const {
  std::vector<const Shard*> needed;
  if (topology_) {
    std::shared_ptr<const ClusterSlotMap> map = topology_->current();
    if (!map) {
      detail = "the broker (Redis Cluster) is unreachable: no slot map yet";
      return false;
    }
    for (const std::string& master : map->masters()) {
      const Shard* shard = findShard(master);
      if (shard == nullptr) {
        detail = "the broker (Redis Cluster node " + master + ") is not connected yet";
        return false;
      }
      needed.push_back(shard);
    }
    std::lock_guard lock(clusterMutex_);
    if (!homeless_.empty()) {
      detail = "the broker (Redis Cluster) is placing channels whose slot moved";
      return false;
    }
  } else {
    needed.assign(ordered_.begin(), ordered_.end());
  }
  for (const Shard* shard : needed) {
    const RedisPublisher& publisher = shard->publisher;
    const RedisSubscriber& subscriber = shard->subscriber;
    if (publisher.connected() && subscriber.caughtUp()) continue;
    const std::string which = mode_ == config::RedisMode::Standalone
                                  ? std::string("the broker (Redis)")
                              : mode_ == config::RedisMode::Sharded
                                  ? "the broker (Redis shard " + publisher.address() + ")"
                                  : "the broker (Redis Cluster node " + publisher.address() + ")";
    detail = publisher.connected() && subscriber.connected()
                 ? which + " is back; channels are being caught up"
                 : which + " is unreachable";
    return false;
  }
  return true;
}

BrokerStats RedisBroker::stats() const {
  BrokerStats out;
  // Up: every shard that serves channels (cluster: the masters of the slot
  // map; a node no longer in it, e.g. a failed master, does not count).
  std::shared_ptr<const ClusterSlotMap> map = topology_ ? topology_->current() : nullptr;
  out.up = !topology_ || map != nullptr;
  if (topology_) out.errors += topology_->errors();
  for (const Shard* shard : allShards()) {
    const RedisPublisher& publisher = shard->publisher;
    const RedisSubscriber& subscriber = shard->subscriber;
    const bool serving = !map || std::find(map->masters().begin(), map->masters().end(),
                                           publisher.address()) != map->masters().end();
    if (serving) out.up = out.up && publisher.connected() && subscriber.connected();
    out.errors += publisher.errors() + subscriber.errors();
    out.reconnects += publisher.reconnects() + subscriber.reconnects();
    out.publishFailures += publisher.failures();
    out.replayed += subscriber.replayed();
    out.lost += subscriber.lostSeqs();
    out.epochChanges += subscriber.epochChanges();
    out.numberingConflicts += subscriber.conflicts();
    publisher.addLatency(out.commandLatency);
    subscriber.addLatency(out.commandLatency);
  }
  return out;
}

}  // namespace wsr::broker
