#include "auth/AddressLimiter.h"

namespace wsr::auth {

std::string_view admissionRefusalName(AdmissionRefusal refusal) {
  switch (refusal) {
    case AdmissionRefusal::None:
      return "none";
    case AdmissionRefusal::TooManyConnections:
      return "too_many_connections";
    case AdmissionRefusal::TooManyAttempts:
      return "too_many_attempts";
    case AdmissionRefusal::AddressTableFull:
      return "address_table_full";
  }
  return "none";
}

AddressLimiter::AddressLimiter(Limits limits) : limits_(limits) {}

bool AddressLimiter::idle(const Entry& entry, int64_t nowMs) const {
  if (entry.connections > 0) return false;
  if (entry.attempts == 0) return true;
  const size_t newest = (entry.next + entry.ring.size() - 1) % entry.ring.size();
  return entry.ring[newest] <= nowMs - kWindowMs;
}

void AddressLimiter::sweepShard(Shard& shard, int64_t nowMs) {
  const size_t before = shard.entries.size();
  std::erase_if(shard.entries, [&](const auto& item) { return idle(item.second, nowMs); });
  entries_.fetch_sub(before - shard.entries.size(), std::memory_order_relaxed);
}

Admission AddressLimiter::admit(const IpAddress& address, int64_t nowMs) {
  return take(address, nowMs, true);
}

Admission AddressLimiter::hold(const IpAddress& address, int64_t nowMs) {
  return take(address, nowMs, false);
}

Admission AddressLimiter::take(const IpAddress& address, int64_t nowMs, bool attempt) {
  Admission admission;
  Shard& shard = shardOf(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(address);
  if (it == shard.entries.end()) {
    if (limits_.maxEntries != 0 && entries_.load(std::memory_order_relaxed) >= limits_.maxEntries) {
      sweepShard(shard, nowMs);
      if (entries_.load(std::memory_order_relaxed) >= limits_.maxEntries) {
        admission.reason = AdmissionRefusal::AddressTableFull;
        admission.retryAfterSeconds = kRetryAfterConnectionsSeconds;
        return admission;
      }
    }
    it = shard.entries.emplace(address, Entry{}).first;
    if (limits_.maxAttemptsPerMinute > 0) it->second.ring.resize(limits_.maxAttemptsPerMinute);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry& entry = it->second;

  // The attempt is recorded whatever the answer.
  bool tooManyAttempts = false;
  if (attempt && limits_.maxAttemptsPerMinute > 0) {
    const int64_t oldest = entry.ring[entry.next];  // the slot about to be reused
    if (entry.attempts == entry.ring.size() && oldest > nowMs - kWindowMs) {
      tooManyAttempts = true;
      const int64_t waitMs = oldest + kWindowMs - nowMs;
      admission.retryAfterSeconds = static_cast<int>((waitMs + 999) / 1000);
    }
    entry.ring[entry.next] = nowMs;
    entry.next = static_cast<uint32_t>((entry.next + 1) % entry.ring.size());
    if (entry.attempts < entry.ring.size()) ++entry.attempts;
  }
  if (tooManyAttempts) {
    admission.reason = AdmissionRefusal::TooManyAttempts;
    return admission;
  }
  if (limits_.maxConnections > 0 && entry.connections >= limits_.maxConnections) {
    admission.reason = AdmissionRefusal::TooManyConnections;
    admission.retryAfterSeconds = kRetryAfterConnectionsSeconds;
    return admission;
  }
  ++entry.connections;
  admission.admitted = true;
  return admission;
}

void AddressLimiter::release(const IpAddress& address) {
  Shard& shard = shardOf(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(address);
  if (it == shard.entries.end() || it->second.connections == 0) {
    unmatched_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  --it->second.connections;
}

void AddressLimiter::sweep(int64_t nowMs) {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    sweepShard(shard, nowMs);
  }
}

uint32_t AddressLimiter::connections(const IpAddress& address) {
  Shard& shard = shardOf(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(address);
  return it == shard.entries.end() ? 0 : it->second.connections;
}

}  // namespace wsr::auth
