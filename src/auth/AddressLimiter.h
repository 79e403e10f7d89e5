#pragma once
// Per-client-address admission (limits.connections_per_address and
// limits.connection_attempts_per_minute), shared by every worker: the
// connections of one address land on different workers, so the table is
// split into shards, each under its own mutex, by the address's hash.
//
// Semantics:
//   - every admit() is an attempt, admitted or not: a client that keeps
//     hammering keeps its window full and stays refused;
//   - attempts: the last `maxAttemptsPerMinute` attempt times are kept per
//     address (a ring, exact, 8 bytes each); the next attempt is refused
//     while the oldest of them is less than 60 s old, with Retry-After the
//     seconds until it is;
//   - connections: concurrent admitted connections, given back by release()
//     (AddressLease does it on destruction); at the limit the next is
//     refused with Retry-After 5; hold() takes such a place for a
//     connection still in its handshake, without counting an attempt;
//   - memory: at most maxEntries addresses are tracked; a new address when
//     the table is full sweeps its shard first and is refused
//     (address_table_full) if that frees nothing. sweep() forgets addresses
//     with no connection and no attempt in the last minute.
//   - a limit of 0 turns that limit off.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/IpNetwork.h"

namespace wsr::auth {

enum class AdmissionRefusal : uint8_t {
  None,
  TooManyConnections,
  TooManyAttempts,
  AddressTableFull
};
std::string_view admissionRefusalName(AdmissionRefusal refusal);

struct Admission {
  bool admitted = false;
  AdmissionRefusal reason = AdmissionRefusal::None;
  int retryAfterSeconds = 0;
};

class AddressLimiter {
 public:
  struct Limits {
    uint32_t maxConnections = 5;
    uint32_t maxAttemptsPerMinute = 10;
    size_t maxEntries = 1000000;
  };
  static constexpr int64_t kWindowMs = 60000;
  static constexpr int kRetryAfterConnectionsSeconds = 5;

  explicit AddressLimiter(Limits limits);
  AddressLimiter(const AddressLimiter&) = delete;
  AddressLimiter& operator=(const AddressLimiter&) = delete;

  Admission admit(const IpAddress& address, int64_t nowMs);
  // A place under maxConnections without an attempt: a connection still in
  // its handshake, counted from its accept so that idle sockets and
  // half-sent requests cannot pile up; release() gives it back.
  Admission hold(const IpAddress& address, int64_t nowMs);
  void release(const IpAddress& address);
  void sweep(int64_t nowMs);

  size_t size() const { return entries_.load(std::memory_order_relaxed); }
  // Connections currently admitted for `address` (tests, diagnostics).
  uint32_t connections(const IpAddress& address);
  // release() calls for an address with no admitted connection.
  uint64_t unmatchedReleases() const { return unmatched_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    uint32_t connections = 0;
    uint32_t attempts = 0;  // valid times in the ring
    uint32_t next = 0;      // where the next attempt time goes
    std::vector<int64_t> ring;
  };
  struct Hash {
    size_t operator()(const IpAddress& address) const { return address.hash(); }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<IpAddress, Entry, Hash> entries;
  };
  static constexpr size_t kShards = 16;

  Shard& shardOf(const IpAddress& address) { return shards_[address.hash() % kShards]; }
  Admission take(const IpAddress& address, int64_t nowMs, bool attempt);
  bool idle(const Entry& entry, int64_t nowMs) const;
  void sweepShard(Shard& shard, int64_t nowMs);

  const Limits limits_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> entries_{0};
  std::atomic<uint64_t> unmatched_{0};
};

// An admitted connection's claim on its address, given back on destruction.
class AddressLease {
 public:
  AddressLease() = default;
  AddressLease(AddressLimiter& limiter, const IpAddress& address)
      : limiter_(&limiter), address_(address) {}
  AddressLease(AddressLease&& other) noexcept : limiter_(other.limiter_), address_(other.address_) {
    other.limiter_ = nullptr;
  }
  AddressLease& operator=(AddressLease&& other) noexcept {
    if (this != &other) {
      reset();
      limiter_ = other.limiter_;
      address_ = other.address_;
      other.limiter_ = nullptr;
    }
    return *this;
  }
  AddressLease(const AddressLease&) = delete;
  AddressLease& operator=(const AddressLease&) = delete;
  ~AddressLease() { reset(); }

  void reset() {
    if (limiter_ != nullptr) limiter_->release(address_);
    limiter_ = nullptr;
  }

 private:
  AddressLimiter* limiter_ = nullptr;
  IpAddress address_;
};

}  // namespace wsr::auth
