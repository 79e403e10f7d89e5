#pragma once
// What a worker asks about its clients, and nothing else: may this upgrade
// proceed (and as whom), may this client read that channel, is this fresh
// token good, how many messages may a client send. ConnectionGate answers
// from config.yaml (auth mode, limits, origins, proxies); the hub knows only
// this interface.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "auth/AddressLimiter.h"
#include "auth/Authenticator.h"
#include "auth/ChannelAccess.h"
#include "auth/IpNetwork.h"
#include "ws/WebSocketHandler.h"

namespace wsr::hub {

// One connection's place under limits.max_connections, given back on destruction.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::atomic<size_t>* count) : count_(count) {}
  ConnectionSlot(ConnectionSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    if (this != &other) {
      release();
      count_ = std::exchange(other.count_, nullptr);
    }
    return *this;
  }
  ~ConnectionSlot() { release(); }

 private:
  void release() {
    if (count_ != nullptr) count_->fetch_sub(1, std::memory_order_relaxed);
    count_ = nullptr;
  }
  std::atomic<size_t>* count_ = nullptr;
};

// What an accepted upgrade carries into its session.
struct Admission {
  std::string dedicatedChannel;                    // for /ws/<channel>
  std::shared_ptr<const auth::Identity> identity;  // auth.mode jwt
  auth::IpAddress client;
  auth::AddressLease lease;
  ConnectionSlot slot;
  // The upgrade reached the per-address attempt check (counted there,
  // admitted or not): it counts in the shared attempts too.
  bool attemptCounted = false;
};

class Gate {
 public:
  virtual ~Gate() = default;

  // Any worker thread, when a TCP connection is accepted: a refusal, or an
  // acceptance whose session (if any) the engine holds until the request
  // head is complete (a place under the per-address cap, say).
  virtual ws::UpgradeDecision admitAccept(const net::PeerAddress& peer) = 0;
  // Any worker thread. A refusal (status set) or an acceptance, with
  // `admission` filled and the session for it to be built by the caller.
  virtual ws::UpgradeDecision admit(const ws::HandshakeRequest& request,
                                    const net::PeerAddress& peer, Admission& admission) = 0;
  // Whether `identity` (null: no token identity) may subscribe to `channel`.
  virtual auth::AccessDecision mayAccess(const auth::Identity* identity,
                                         std::string_view channel) const = 0;
  // The `auth` op: whether clients carry credentials at all, and a fresh one
  // checked at `nowSeconds`.
  virtual bool credentialsRequired() const = 0;
  virtual auth::AuthOutcome authenticate(std::string_view token, int64_t nowSeconds) const = 0;
  // Any worker thread: the refusal of an upgrade whose client's attempts,
  // counted across instances, are past limits.connection_attempts_per_minute
  // (the same 429 as the local limit's), counted and logged as it is.
  virtual ws::UpgradeDecision refuseSharedAttempts(const auth::IpAddress& client,
                                                   int retryAfterSeconds) = 0;
  // Client messages a connection may send a minute (0: no limit).
  virtual uint32_t messagesPerMinute() const = 0;
  // Forgets what it tracks of clients long gone; one worker calls it
  // periodically.
  virtual void sweep(int64_t nowMs) = 0;
};

}  // namespace wsr::hub
