#pragma once
// Publications the publish API refused, by PROTOCOL.md error code: a whole
// request (401, 413, a body that is not JSON...) counts once, a batch
// counts each refused message. Written by the admin threads (relaxed
// fetch_add: lock-free, once per request, nowhere near the clients' data
// path), read by the /metrics scrape.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hub/PublishSink.h"

namespace wsr::admin {

class PublishRejections {
 public:
  static constexpr std::array<std::string_view, 7> kCodes = {
      "BAD_REQUEST", "UNAUTHORIZED",  "INVALID_CHANNEL", "TOO_LARGE",
      "UNAVAILABLE", "CHANNEL_LIMIT", "OVERLOADED"};

  void countUnauthorized() { add(1); }
  // A refusal of the hub or of the body's parser; None counts nothing.
  void count(hub::PublishError error) {
    switch (error) {
      case hub::PublishError::None:
        return;
      case hub::PublishError::BadRequest:
        add(0);
        return;
      case hub::PublishError::InvalidChannel:
        add(2);
        return;
      case hub::PublishError::TooLarge:
        add(3);
        return;
      case hub::PublishError::Unavailable:
        add(4);
        return;
      case hub::PublishError::ChannelLimit:
        add(5);
        return;
      case hub::PublishError::Overloaded:
        add(6);
        return;
    }
  }

  // By index of kCodes.
  uint64_t value(size_t code) const { return counts_[code].load(std::memory_order_relaxed); }

 private:
  void add(size_t code) { counts_[code].fetch_add(1, std::memory_order_relaxed); }

  std::array<std::atomic<uint64_t>, kCodes.size()> counts_{};
};

}  // namespace wsr::admin
