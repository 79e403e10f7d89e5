#pragma once
// The channel half of the Redis broker: its own thread, a SUBSCRIBE
// connection and a connection for reading channels' state. It subscribes
// in Redis to the channels this instance's clients use (the hub tells it
// through hub::ChannelInterest) and unsubscribes after the last one left
// and the linger passed. Each channel's mirror is primed from Redis (seq,
// epoch, stream, retained value) once its subscription is confirmed, and
// every message Redis publishes is handed to the hub (Hub::accept), which
// builds the frames once and posts them to the workers: this thread is
// the mirrors' only publisher, so their order is Redis's order.
//
// When the connection is lost it reconnects with backoff and jitter,
// subscribes again to every channel, and catches each mirror up from the
// stream: what it missed is replayed, what the stream lost becomes a
// `gap`, a new epoch a `gap` with reason `epoch`.
//
// A connection can be up and silent (Redis stopped with SIGSTOP, a
// network path that drops without a reset): every
// broker.redis.probe_interval_ms the thread sends PING on the SUBSCRIBE
// connection (Redis answers it there too, with a `pong` push), and an
// answer not there within broker.redis.command_timeout_ms counts as the
// connection lost.
//
// Mode cluster: the subscriptions are sharded pub/sub (SSUBSCRIBE, one
// channel per command: Redis refuses several slots in one) on the node
// serving the channel's slot. When the slot moves (Redis sends an
// `sunsubscribe` nobody asked for, or answers MOVED), the channel is
// handed back to the broker (`moved`), which gives it to the new owner's
// subscriber: that one subscribes and catches the mirror up from the
// stream like after a reconnection.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "broker/RedisConnection.h"
#include "broker/RedisMessage.h"
#include "config/Config.h"
#include "hub/ChannelInterest.h"
#include "hub/Hub.h"
#include "net/Fd.h"
#include "stats/LatencyHistogram.h"
#include "telemetry/Logger.h"

namespace wsr::broker {

class RedisSubscriber final : public hub::ChannelInterest {
 public:
  // Called on the thread when a channel left this node (mode cluster): the
  // node Redis named (MOVED), or empty when it did not say (sunsubscribe).
  using Moved = std::function<void(const std::string& channel, const std::string& movedTo)>;

  // Subscribes at the Redis at `address` (host:port); `lost` runs on the
  // thread when its connection to Redis is lost.
  RedisSubscriber(const config::Config& config, std::string address, hub::Hub& hub,
                  telemetry::Logger& logger, std::function<void()> lost, Moved moved = {});
  ~RedisSubscriber() override;  // stop()
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  void stop();

  // hub::ChannelInterest: queue the change and wake the thread.
  void watched(const std::string& channel) override;
  void unwatched(const std::string& channel) override;
  // Mode cluster: the channel went to another node's subscriber (the slot
  // map says so); dropped here without lingering, its mirror kept.
  void release(const std::string& channel);

  const std::string& address() const { return address_; }
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Connected, and every channel subscribed again and caught up since.
  bool caughtUp() const { return caughtUp_.load(std::memory_order_relaxed); }
  // Whether the first connection attempt has ended (either way).
  bool attempted() const { return attempted_.load(std::memory_order_acquire); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  void addLatency(stats::LatencyHistogram::Snapshot& into) const { latency_.addTo(into); }
  // Channels subscribed in Redis now (for tests and the stats view).
  size_t subscribedChannels() const { return subscribedCount_.load(std::memory_order_relaxed); }
  // What the mirrors met: publications delivered from the stream when
  // catching up after a reconnection; seqs never received (each announced
  // with a `gap`); numberings that restarted (a new epoch); seqs numbered
  // twice (a failover lost writes: a new epoch was started).
  uint64_t replayed() const { return replayed_.load(std::memory_order_relaxed); }
  uint64_t lostSeqs() const { return lostSeqs_.load(std::memory_order_relaxed); }
  uint64_t epochChanges() const { return epochChanges_.load(std::memory_order_relaxed); }
  uint64_t conflicts() const { return conflicts_.load(std::memory_order_relaxed); }

 private:
  struct Change {
    std::string channel;
    bool watched;
    bool released = false;
  };
  struct Subscribed {
    bool confirmed = false;   // Redis answered the SUBSCRIBE: the mirror may be read
    bool lingering = false;   // no worker watches it: unsubscribed at lingerUntilMs
    bool catchingUp = false;  // subscribed again after a reconnection, not yet caught up
    uint64_t lingerUntilMs = 0;
  };

  void run();
  bool connect(std::string& error);
  void lost(const std::string& error);
  void applyChanges();
  void expireLingering();
  // Reads what Redis sent, up to `timeoutMs` of waiting; false on failure.
  bool receive(int timeoutMs);
  void handle(const redisReply& reply);
  // Primes the channel's mirror from Redis, or catches it up; false when
  // the connection failed.
  bool sync(const std::string& channel);
  // Hands one of Redis's publications to the channel's mirror, and counts
  // what it was; `replay`: read from the stream while catching up.
  void accept(hub::Channel& channel, const RedisMessage& message, bool replay);
  // Redis numbered again seqs this mirror had (a failover to a replica that
  // missed writes): the channel's numbering is restarted, so that its next
  // publication comes under a new epoch, announced to every subscriber of
  // every instance, rather than reusing seqs some of them already had.
  void restartNumbering(const std::string& channel, uint64_t epoch, std::string_view why);
  void send(const std::vector<std::string>& command);
  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);
  // Mode cluster: the channel is no longer this node's; hands it back.
  void handOff(const std::string& channel, const std::string& movedTo);
  // The stall probe: sends PING when it is time, and fails the connection
  // when the last one is unanswered for longer than the command timeout.
  void probe();
  void answered();  // the PING's answer came

  const config::Config& config_;
  const std::string address_;
  hub::Hub& hub_;
  telemetry::Logger& logger_;
  const std::function<void()> onLost_;
  const Moved onMoved_;
  const bool cluster_;  // sharded pub/sub (SSUBSCRIBE), channels handed off when they move
  net::Fd wakeFd_;      // eventfd: changes queued, or stop

  // The thread's only.
  RedisConnection subscription_;
  RedisConnection reader_;
  std::unordered_map<std::string, Subscribed> subscribed_;
  // Unsubscriptions sent and not yet confirmed, per channel: an
  // `sunsubscribe` beyond them is Redis saying the slot moved.
  std::unordered_map<std::string, uint32_t> unsubscribing_;
  bool failed_ = false;    // a send failed: reconnect at the next turn
  size_t catchingUp_ = 0;  // channels with catchingUp set
  bool probing_ = false;   // a PING is unanswered
  uint64_t probeSentNs_ = 0;
  uint64_t nextProbeMs_ = 0;
  void caughtUpOne();

  std::mutex mutex_;  // guards what follows
  std::vector<Change> changes_;
  bool stopping_ = false;

  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> caughtUp_{false};
  std::atomic<bool> attempted_{false};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<size_t> subscribedCount_{0};
  std::atomic<uint64_t> replayed_{0};
  std::atomic<uint64_t> lostSeqs_{0};
  std::atomic<uint64_t> epochChanges_{0};
  std::atomic<uint64_t> conflicts_{0};
  stats::LatencyHistogram latency_;  // written by the thread only
};

}  // namespace wsr::broker
