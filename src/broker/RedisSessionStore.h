#pragma once
// broker.type redis: lost connections' sessions wait for `resume` in Redis,
// so that a client resumes on any instance. One hash per session,
// `wsr:session:{<id>}` (fields t: the resume token, s: the subject, d: the
// SavedSession text), expiring after resume.window_ms. Keeping is one
// script (HSET and PEXPIRE together); taking is one script that gives the
// session up, and deletes it, only to its token and subject: a token
// works once, and a wrong guess leaves the session to its owner.
//
// Workers never wait: keep() and take() queue the work for this store's
// thread, which sends what is queued as one pipeline per node (the key's
// node: the first address, its shard, or its slot's master) and calls each
// take's `done` from there.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/Backoff.h"
#include "broker/RedisConnection.h"
#include "config/Config.h"
#include "hub/SessionStore.h"
#include "telemetry/Logger.h"

namespace wsr::broker {

// The session's key: the hash tag keeps it on one Redis Cluster slot.
std::string sessionKey(std::string_view id);

class RedisSessionStore final : public hub::SessionStore {
 public:
  // The node (host:port) that holds a key, as the broker's mode places it;
  // empty when that is not known yet (cluster: no slot map).
  using AddressOf = std::function<std::string(const std::string& key)>;
  RedisSessionStore(const config::Config& config, telemetry::Logger& logger, AddressOf addressOf);
  ~RedisSessionStore() override;  // stop()
  RedisSessionStore(const RedisSessionStore&) = delete;
  RedisSessionStore& operator=(const RedisSessionStore&) = delete;

  void start();
  // Sends what is still queued (the sessions of connections the shutdown
  // closed), then stops; takes still waiting are answered Unavailable.
  void stop();

  void keep(const std::string& id, const std::string& token, const hub::SavedSession& session,
            uint64_t ttlMs) override;
  void take(const std::string& id, const std::string& token, const std::string& subject,
            std::function<void(hub::TakeResult)> done) override;
  void sweep(int64_t) override {}  // Redis expires the keys
  Counts counts() const override;

 private:
  struct Operation {
    std::vector<std::string> command;           // EVAL ...
    std::function<void(hub::TakeResult)> done;  // take; empty for keep
  };

  struct Node {
    RedisConnection connection;
    std::unique_ptr<Backoff> backoff;
    uint64_t retryAtMs = 0;  // after a failure: no attempt before
  };

  void run();
  // Sends `batch` as one pipeline to one node; false when the connection
  // failed (what is left in `batch` was not answered).
  bool send(RedisConnection& connection, const std::string& address, std::vector<Operation>& batch);
  void fail(std::vector<Operation>& batch);
  void enqueue(Operation&& operation);

  const config::Config& config_;
  telemetry::Logger& logger_;
  const AddressOf addressOf_;
  std::map<std::string, Node> nodes_;  // the thread's only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Operation> queue_;
  bool stopping_ = false;  // the thread sends what is queued, then ends
  bool closed_ = false;    // stopped: work is answered at once, unsent
  std::thread thread_;

  std::atomic<uint64_t> kept_{0};
  std::atomic<uint64_t> lost_{0};
};

}  // namespace wsr::broker
