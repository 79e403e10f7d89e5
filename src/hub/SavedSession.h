#pragma once
// What a lost connection leaves behind for `resume` (PROTOCOL.md): who it
// was and what it was subscribed to, with the last seq the router wrote to
// it on each channel. Kept by a SessionStore for resume.window_ms.
//
// The text form is what the Redis broker stores, so that a client resumes
// on any instance:
//
//   <subject length>\n<subject><channel> <seq or ->\n<channel> <seq or ->\n...
//
// The subject is counted (a JWT's `sub` may hold anything); channel names
// hold no space or newline (PROTOCOL.md's rule), seqs are decimal, `-` for
// a subscription that had not been answered yet (no seq was written).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::hub {

struct SavedSubscription {
  std::string channel;
  std::optional<uint64_t> lastSeq;  // none: its `subscribed` had not been sent

  bool operator==(const SavedSubscription&) const = default;
};

struct SavedSession {
  std::string subject;  // the token's subject; empty without one
  std::vector<SavedSubscription> subscriptions;

  bool operator==(const SavedSession&) const = default;
};

std::string encodeSavedSession(const SavedSession& session);
// Null when the bytes are not such a record.
std::optional<SavedSession> decodeSavedSession(std::string_view bytes);

}  // namespace wsr::hub
