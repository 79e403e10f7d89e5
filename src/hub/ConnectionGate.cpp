#include "hub/ConnectionGate.h"

#include <cctype>
#include <chrono>

#include "auth/ClientAddress.h"
#include "auth/Credentials.h"
#include "hub/ChannelName.h"
#include "hub/Hub.h"
#include "hub/WallClock.h"
#include "telemetry/Tracer.h"
#include "text/Concat.h"

namespace wsr::hub {
namespace {

constexpr std::string_view kRefusalNames[kRefusalCount] = {
    "draining",
    "not_found",
    "not_ready",
    "connection_cap",
    "too_many_connections",
    "too_many_attempts",
    "address_table_full",
    "origin_not_allowed",
    "unauthorized",
    "forbidden",
};
constexpr int kRetryWhenFullSeconds = 5;
// How much of an upgrade's path a handshake span keeps.
constexpr size_t kMaxTracedPathBytes = 256;

auth::AuthSettings authSettings(const config::Config& config) {
  const config::AuthConfig& in = config.auth;
  auth::AuthSettings out;
  switch (in.mode) {
    case config::AuthMode::None:
      out.mode = auth::AuthMode::None;
      break;
    case config::AuthMode::Token:
      out.mode = auth::AuthMode::Token;
      break;
    case config::AuthMode::Jwt:
      out.mode = auth::AuthMode::Jwt;
      break;
  }
  out.tokenFile = in.tokenFile;
  std::string ignored;  // the loader has checked the names already
  auth::parseJwtAlgorithms(in.jwt.algorithms, out.jwt.algorithms, ignored);
  out.jwt.leewaySeconds = in.jwt.leewaySeconds;
  if (!in.jwt.issuer.empty()) out.jwt.issuer = in.jwt.issuer;
  if (!in.jwt.audience.empty()) out.jwt.audience = in.jwt.audience;
  out.jwt.requireExpiry = in.jwt.requireExpiry;
  out.jwtKeys.hs256SecretsFile = in.jwt.hs256SecretFile;
  out.jwtKeys.rs256PublicKeysFile = in.jwt.rs256PublicKeyFile;
  out.jwtKeys.es256PublicKeysFile = in.jwt.es256PublicKeyFile;
  return out;
}

auth::AddressLimiter::Limits addressLimits(const config::LimitsConfig& limits) {
  auth::AddressLimiter::Limits out;
  out.maxConnections = limits.connectionsPerAddress;
  out.maxAttemptsPerMinute = limits.connectionAttemptsPerMinute;
  out.maxEntries = limits.maxTrackedAddresses;
  return out;
}

// The values of every header called `name`, joined with ", " (RFC 9110
// allows a list header to be split over several lines).
std::string joinedHeader(const ws::HandshakeRequest& request, std::string_view name) {
  std::string out;
  for (const auto& [key, value] : request.headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(key[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (!same) continue;
    if (!out.empty()) out += ", ";
    out.append(value);
  }
  return out;
}

int64_t monotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool endpointFor(std::string_view path, const config::Config& config, std::string& channel,
                 std::string& message) {
  if (path == "/ws") return true;
  constexpr std::string_view kDedicated = "/ws/";
  if (!path.starts_with(kDedicated)) {
    message = "no WebSocket endpoint at this path; use /ws or /ws/<channel>";
    return false;
  }
  const std::string_view name = path.substr(kDedicated.size());
  if (!isValidChannelName(name)) {
    message = "invalid channel name in the path";
    return false;
  }
  if (!config.namespaceFor(name).dedicatedEndpoint) {
    // Not naming it: the message is logged, and the path may be a token.
    message = "this channel has no dedicated endpoint; subscribe to it on /ws";
    return false;
  }
  channel = name;
  return true;
}

std::string_view refusalName(Refusal refusal) {
  return kRefusalNames[static_cast<size_t>(refusal)];
}

ConnectionGate::ConnectionGate(const config::Config& config, Hub& hub, telemetry::Logger& logger)
    : config_(config),
      hub_(hub),
      logger_(logger),
      authenticator_(authSettings(config)),
      addresses_(addressLimits(config.limits)) {}

bool ConnectionGate::start(std::string& error) {
  std::string detail;
  auto proxies = auth::TrustedProxies::parse(config_.limits.trustedProxies, detail);
  if (!proxies) {
    error = text::concat("limits.trusted_proxies", detail);
    return false;
  }
  proxies_ = std::move(*proxies);
  auto origins = auth::OriginPolicy::parse(config_.limits.allowedOrigins, detail);
  if (!origins) {
    error = text::concat("limits.allowed_origins", detail);
    return false;
  }
  origins_ = std::move(*origins);
  if (config_.auth.mode == config::AuthMode::Jwt) {
    for (const auto& [name, settings] : config_.namespaces) {
      const std::string& requirement = settings.requireClaim;
      if (requirement.empty()) continue;
      const size_t equals = requirement.find('=');
      requirements_[name] =
          auth::ClaimRequirement{requirement.substr(0, equals), requirement.substr(equals + 1)};
    }
  }
  if (!authenticator_.load(detail)) {
    if (!config_.auth.waitForSecrets) {
      error = text::concat("auth: ", detail);
      return false;
    }
    logger_.log(telemetry::LogLevel::Warn, "secret_missing",
                {{"message", detail}, {"effect", "not ready until the secret loads"}});
  }
  return true;
}

ws::UpgradeDecision ConnectionGate::refuse(std::string_view& traceOutcome, Refusal refusal,
                                           int status, std::string_view code, std::string message,
                                           const auth::IpAddress& client,
                                           const ws::HandshakeRequest& request,
                                           int retryAfterSeconds) {
  if (traceOutcome.empty()) traceOutcome = refusalName(refusal);
  refusals_[static_cast<size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
  std::string channel;
  std::string notFound;
  const bool knownPath = endpointFor(request.path, config_, channel, notFound);
  logger_.logLimited(telemetry::LogLevel::Warn, "connection_refused",
                     {{"reason", refusalName(refusal)},
                      {"status", status},
                      {"client", client.toString()},
                      {"target", auth::loggableTarget(request.path, request.query, knownPath)},
                      {"message", message}});
  ws::UpgradeDecision decision =
      ws::UpgradeDecision::refuse(status, std::string(code), std::move(message));
  if (retryAfterSeconds > 0) {
    decision.headers.push_back(text::concat("Retry-After: ", std::to_string(retryAfterSeconds)));
  }
  return decision;
}

ws::UpgradeDecision ConnectionGate::admitAccept(const net::PeerAddress& peer) {
  if (config_.limits.connectionsPerAddress == 0) return ws::UpgradeDecision::accept();
  const auth::IpAddress address(peer);
  if (proxies_.contains(address)) return ws::UpgradeDecision::accept();
  const auth::Admission held = addresses_.hold(address, monotonicMs());
  if (held.admitted) {
    return ws::UpgradeDecision::accept(
        std::make_unique<HandshakePlace>(auth::AddressLease(addresses_, address)));
  }
  const bool table = held.reason == auth::AdmissionRefusal::AddressTableFull;
  const Refusal refusal = table ? Refusal::AddressTableFull : Refusal::TooManyConnections;
  const int status = table ? 503 : 429;
  std::string message = table ? "this router tracks too many client addresses"
                              : "too many connections from this address";
  refusals_[static_cast<size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
  // No target: nothing of the request has been read.
  logger_.logLimited(telemetry::LogLevel::Warn, "connection_refused",
                     {{"reason", refusalName(refusal)},
                      {"status", status},
                      {"client", address.toString()},
                      {"message", message}});
  ws::UpgradeDecision decision = ws::UpgradeDecision::refuse(
      status, table ? "UNAVAILABLE" : "RATE_LIMITED", std::move(message));
  decision.headers.push_back(text::concat("Retry-After: ", std::to_string(held.retryAfterSeconds)));
  return decision;
}

ws::UpgradeDecision ConnectionGate::refuseSharedAttempts(const auth::IpAddress& client,
                                                         int retryAfterSeconds) {
  constexpr std::string_view kMessage = "too many connection attempts from this address";
  refusals_[static_cast<size_t>(Refusal::TooManyAttempts)].fetch_add(1, std::memory_order_relaxed);
  // No target: the request has been answered to the engine already.
  logger_.logLimited(telemetry::LogLevel::Warn, "connection_refused",
                     {{"reason", refusalName(Refusal::TooManyAttempts)},
                      {"status", 429},
                      {"client", client.toString()},
                      {"counted", "across instances"},
                      {"message", kMessage}});
  ws::UpgradeDecision decision =
      ws::UpgradeDecision::refuse(429, "RATE_LIMITED", std::string(kMessage));
  decision.headers.push_back(text::concat("Retry-After: ", std::to_string(retryAfterSeconds)));
  return decision;
}

ws::UpgradeDecision ConnectionGate::admit(const ws::HandshakeRequest& request,
                                          const net::PeerAddress& peer, Admission& admission) {
  std::string_view traceOutcome;
  telemetry::Tracer* tracer = hub_.tracer();
  if (tracer == nullptr) return decide(request, peer, admission, traceOutcome);

  // A root span per upgrade decision. Its attributes never include the
  // request target or a header: the query or a header may carry a token.
  telemetry::ActiveSpan span =
      tracer->startSpan("websocket.handshake", telemetry::SpanKind::Server);
  ws::UpgradeDecision decision = decide(request, peer, admission, traceOutcome);
  if (span.recording()) {
    span.setString("http.request.method", request.method);
    span.setString("url.path", request.path.substr(0, kMaxTracedPathBytes));
    span.setString("client.address", admission.client.toString());
    span.setString("wsrouter.auth.outcome", decision.status == 0 ? "ok" : traceOutcome);
    span.setInt("http.response.status_code", decision.status == 0 ? 101 : decision.status);
    if (decision.status != 0) span.setError(decision.code);
  }
  return decision;
}

ws::UpgradeDecision ConnectionGate::decide(const ws::HandshakeRequest& request,
                                           const net::PeerAddress& peer, Admission& admission,
                                           std::string_view& traceOutcome) {
  const auth::IpAddress& client = admission.client =
      auth::resolveClientAddress(auth::IpAddress(peer), joinedHeader(request, "Forwarded"),
                                 joinedHeader(request, "X-Forwarded-For"), proxies_);
  if (hub_.draining()) {
    return refuse(traceOutcome, Refusal::Draining, 503, "UNAVAILABLE",
                  "this router is shutting down; reconnect to another instance", client, request,
                  1);
  }

  std::string message;
  if (!endpointFor(request.path, config_, admission.dedicatedChannel, message)) {
    return refuse(traceOutcome, Refusal::NotFound, 404, "NOT_FOUND", std::move(message), client,
                  request);
  }

  if (!authenticator_.ready()) {
    return refuse(traceOutcome, Refusal::NotReady, 503, "UNAVAILABLE",
                  "this router is waiting for its secrets; try again shortly", client, request,
                  kRetryWhenFullSeconds);
  }
  const size_t cap = config_.limits.maxConnections;
  if (connections_.fetch_add(1, std::memory_order_relaxed) >= cap && cap != 0) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    return refuse(traceOutcome, Refusal::ConnectionCap, 503, "UNAVAILABLE",
                  "this router is at its connection limit; try another instance", client, request,
                  kRetryWhenFullSeconds);
  }
  admission.slot = ConnectionSlot(&connections_);

  const auth::Admission address = addresses_.admit(client, monotonicMs());
  admission.attemptCounted = config_.limits.connectionAttemptsPerMinute != 0;
  if (!address.admitted) {
    const bool table = address.reason == auth::AdmissionRefusal::AddressTableFull;
    const bool attempts = address.reason == auth::AdmissionRefusal::TooManyAttempts;
    return refuse(traceOutcome,
                  table      ? Refusal::AddressTableFull
                  : attempts ? Refusal::TooManyAttempts
                             : Refusal::TooManyConnections,
                  table ? 503 : 429, table ? "UNAVAILABLE" : "RATE_LIMITED",
                  attempts ? "too many connection attempts from this address"
                  : table  ? "this router tracks too many client addresses"
                           : "too many connections from this address",
                  client, request, address.retryAfterSeconds);
  }
  admission.lease = auth::AddressLease(addresses_, client);

  if (!origins_.allows(request.origin)) {
    return refuse(traceOutcome, Refusal::OriginNotAllowed, 403, "FORBIDDEN",
                  "this Origin is not allowed to connect", client, request);
  }

  const auth::Credential credential = auth::findCredential(
      request.authorization, request.headerTokens("Sec-WebSocket-Protocol"), request.query);
  if (authenticator_.required()) {
    auth::AuthOutcome outcome = authenticator_.authenticate(credential.token, wallClockMs() / 1000);
    if (!outcome.ok) {
      if (outcome.failure == auth::AuthFailure::NotReady) {
        return refuse(traceOutcome, Refusal::NotReady, 503, "UNAVAILABLE",
                      std::move(outcome.message), client, request, kRetryWhenFullSeconds);
      }
      traceOutcome = auth::authFailureName(outcome.failure);  // "unknown_token"...
      return refuse(traceOutcome, Refusal::Unauthorized, 401, "UNAUTHORIZED",
                    std::move(outcome.message), client, request);
    }
    admission.identity = std::move(outcome.identity);
  }

  if (!admission.dedicatedChannel.empty()) {
    auth::AccessDecision access = mayAccess(admission.identity.get(), admission.dedicatedChannel);
    if (!access.allowed) {
      return refuse(traceOutcome, Refusal::Forbidden, 403, "FORBIDDEN", std::move(access.reason),
                    client, request);
    }
  }

  ws::UpgradeDecision accepted = ws::UpgradeDecision::accept();
  if (credential.offeredSubprotocol) accepted.protocol = std::string(auth::kSubprotocol);
  return accepted;
}

auth::AccessDecision ConnectionGate::mayAccess(const auth::Identity* identity,
                                               std::string_view channel) const {
  // auth.mode none is the open demo mode: every channel, user:<id> included.
  if (!authenticator_.required()) return auth::AccessDecision{true, {}};
  return auth::mayAccess(identity, channel, requirements_);
}

}  // namespace wsr::hub
