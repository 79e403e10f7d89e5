#pragma once
// Every check between a valid RFC 6455 request and the 101 (and, from the
// accept until then, the place a connection holds under its address's cap),
// in order:
// draining (503), the path (404), secrets not loaded (503), the instance's
// connection cap (503), the client address's connections and attempts (429),
// the browser Origin (403), the credential (401), and for /ws/<channel> the
// channel's permission (403). Shared by every worker: its state is atomics
// and the address limiter's sharded locks. Each refusal is counted by reason
// and logged, within the logger's budget, with the client address; of the
// request target only a known path and the query's parameter names
// (auth::loggableTarget).
//
// What a connection is admitted with (its identity, its address lease and
// its slot under the cap) lives in its session and gives both back when the
// connection goes.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "auth/AddressLimiter.h"
#include "auth/Authenticator.h"
#include "auth/ChannelAccess.h"
#include "auth/IpNetwork.h"
#include "auth/OriginPolicy.h"
#include "config/Config.h"
#include "hub/Gate.h"
#include "telemetry/Logger.h"
#include "ws/WebSocketHandler.h"

namespace wsr::hub {

class Hub;

enum class Refusal : uint8_t {
  Draining,
  NotFound,
  NotReady,
  ConnectionCap,
  TooManyConnections,
  TooManyAttempts,
  AddressTableFull,
  OriginNotAllowed,
  Unauthorized,
  Forbidden,
};
inline constexpr size_t kRefusalCount = 10;
std::string_view refusalName(Refusal refusal);  // metric label: "too_many_connections"...

// The endpoint of an upgrade path: "/ws", or "/ws/<channel>" for a channel
// whose namespace has dedicated endpoints (then `channel` names it). False,
// with the 404's message, for anything else.
bool endpointFor(std::string_view path, const config::Config& config, std::string& channel,
                 std::string& message);

// A connection's place under limits.connections_per_address while its
// handshake is in progress: held by the engine from the accept until the
// request head is complete (ws::WebSocketHandler::onAccept).
struct HandshakePlace final : ws::SessionData {
  explicit HandshakePlace(auth::AddressLease held) : lease(std::move(held)) {}
  auth::AddressLease lease;
};

class ConnectionGate final : public Gate {
 public:
  ConnectionGate(const config::Config& config, Hub& hub, telemetry::Logger& logger);
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Parses the proxy and origin lists and loads the secrets. False, with
  // `error` naming the key or file, when the router must not start.
  bool start(std::string& error);
  // Whether upgrades can be authenticated (secrets loaded).
  bool ready() const { return authenticator_.ready(); }

  // Any worker thread. A refusal (status set) or an acceptance, with
  // `admission` filled and the session for it to be built by the caller.
  // Traced as a websocket.handshake span when the hub has a tracer.
  ws::UpgradeDecision admit(const ws::HandshakeRequest& request, const net::PeerAddress& peer,
                            Admission& admission) override;

  // Any worker thread, when a TCP connection is accepted: a HandshakePlace
  // for the peer under connections_per_address, or a 429 (503 when the
  // address table is full). A peer that is a trusted proxy is not counted
  // here: the clients behind it are known only from the request's
  // X-Forwarded-For, and are counted at the upgrade. O(1): one shard lock.
  ws::UpgradeDecision admitAccept(const net::PeerAddress& peer) override;

  // Gate.
  ws::UpgradeDecision refuseSharedAttempts(const auth::IpAddress& client,
                                           int retryAfterSeconds) override;
  auth::AccessDecision mayAccess(const auth::Identity* identity,
                                 std::string_view channel) const override;
  bool credentialsRequired() const override { return authenticator_.required(); }
  auth::AuthOutcome authenticate(std::string_view token, int64_t nowSeconds) const override {
    return authenticator_.authenticate(token, nowSeconds);
  }
  uint32_t messagesPerMinute() const override { return config_.limits.messagesPerMinute; }

  auth::Authenticator& authenticator() { return authenticator_; }
  const auth::Authenticator& authenticator() const { return authenticator_; }
  telemetry::Logger& logger() { return logger_; }
  const config::LimitsConfig& limits() const { return config_.limits; }
  // Forgets addresses with no connection and no recent attempt.
  void sweep(int64_t nowMs) override { addresses_.sweep(nowMs); }

  uint64_t refusals(Refusal refusal) const {
    return refusals_[static_cast<size_t>(refusal)].load(std::memory_order_relaxed);
  }
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }
  size_t trackedAddresses() const { return addresses_.size(); }

 private:
  // admit() without its span; `traceOutcome` gets the refusal's reason
  // (an AuthFailure name for a refused credential).
  ws::UpgradeDecision decide(const ws::HandshakeRequest& request, const net::PeerAddress& peer,
                             Admission& admission, std::string_view& traceOutcome);
  ws::UpgradeDecision refuse(std::string_view& traceOutcome, Refusal refusal, int status,
                             std::string_view code, std::string message,
                             const auth::IpAddress& client, const ws::HandshakeRequest& request,
                             int retryAfterSeconds = 0);

  const config::Config& config_;
  Hub& hub_;
  telemetry::Logger& logger_;
  auth::Authenticator authenticator_;
  auth::AddressLimiter addresses_;
  auth::TrustedProxies proxies_;
  auth::OriginPolicy origins_;
  auth::ChannelRequirements requirements_;
  std::atomic<size_t> connections_{0};
  std::array<std::atomic<uint64_t>, kRefusalCount> refusals_{};
};

}  // namespace wsr::hub
