#pragma once
// Where publications enter the hub: the admin server's publish API and the
// demo feed both publish through this one interface, so both take the same
// path (validation, seq, history, fan-out).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/TraceContext.h"

namespace wsr::hub {

// A publication as a publisher hands it in.
struct Publication {
  std::string channel;
  std::string type = "message";  // the data message's "type" for clients
  std::string key;               // optional: conflation key
  std::string data;              // JSON text, already validated; sent byte for byte
  // The context of the request's span, the broker span's parent; not valid
  // (the default) for none. Carried as a value: a traceparent is formatted
  // or parsed only where it crosses a wire (HTTP header, Redis).
  telemetry::TraceContext trace;
  // Set by a publisher that checked `channel` (isValidChannelName) itself
  // and refused it there when invalid: the publish API's parser. The sink
  // checks a publication without it (the demo feed, tests), so every
  // name is checked exactly once on its way in.
  bool channelChecked = false;
};

enum class PublishError {
  None,
  BadRequest,      // 400 BAD_REQUEST: a field is wrong (type, key)
  InvalidChannel,  // 404 INVALID_CHANNEL: the channel name breaks PROTOCOL.md's rule
  TooLarge,        // 413 TOO_LARGE
  Unavailable,     // 503 UNAVAILABLE: the broker is down, or the router is stopping
  ChannelLimit,    // 503 CHANNEL_LIMIT: a new channel past limits.max_channels
  Overloaded,      // 429 OVERLOADED: the workers' backlog is past admin.publish_backlog
};

struct PublishResult {
  PublishError error = PublishError::None;
  std::string message;  // what was wrong, naming the field, when error != None
  uint64_t seq = 0;     // the publication's seq in its channel, when accepted

  bool ok() const { return error == PublishError::None; }
};

// The HTTP status and PROTOCOL.md error code for each outcome.
int httpStatusOf(PublishError error);
std::string_view errorCodeOf(PublishError error);

// A sink's check of the channel name: the InvalidChannel refusal, naming
// it, when the publisher did not check it (channelChecked) and it is not a
// valid name; none otherwise.
std::optional<PublishResult> refuseInvalidChannel(const Publication& publication);

class PublishSink {
 public:
  virtual ~PublishSink() = default;
  // Any thread. Validates, assigns the channel's next seq and fans out.
  virtual PublishResult publish(Publication&& publication) = 0;
  // Any thread: several publications, answered each in order, each
  // standing or falling alone. A sink that pays a round trip per call (the
  // Redis broker) sends them together; by default, one publish() each.
  virtual std::vector<PublishResult> publishBatch(std::vector<Publication>&& publications) {
    std::vector<PublishResult> results;
    results.reserve(publications.size());
    for (Publication& publication : publications)
      results.push_back(publish(std::move(publication)));
    return results;
  }
  // Whether publish() may wait (a round trip to Redis): such a sink is
  // never called on an event loop's thread, where it would stall every
  // connection of that loop.
  virtual bool mayWait() const { return false; }
  // Any thread, cheap: whether any client is subscribed to `channel`, so a
  // publisher can skip building a snapshot nobody would receive.
  virtual bool hasSubscribers(std::string_view channel) const = 0;
};

}  // namespace wsr::hub
