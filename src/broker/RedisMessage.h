#pragma once
// A publication as it travels through Redis: on the instances' pub/sub
// channel, in the channel's stream and as its retained value, the same
// bytes, written by the publish script (RedisScript.cpp) and read here:
//
//   <seq> <epoch> <ts> <type> <key length> <origin> <traceparent>\n<key><data>
//
// Numbers in decimal; `type` is [A-Za-z0-9_.-]{1,64} (the publish API's
// rule), so neither it nor the numbers hold a space; the key is counted,
// so it may hold anything; `data` is the publisher's JSON, byte for byte,
// to the end. `origin` is the publication's id, given by the instance that
// took it (so that a seq numbered twice is told from a replay); the
// traceparent is the W3C context of its broker.publish span, `-` for none:
// formatted from and parsed into Publication::trace here, at the wire.
// The form without the last two fields (wsrouter before them) is read too. Each instance builds the
// frames from it once (Hub::build), so every instance sends the same bytes.
//
// A run (several consecutive publications of one channel, numbered by one
// script call) is ONE pub/sub message:
//
//   *<n>\n<length 1>\n<message 1><length 2>\n<message 2>...
//
// each <message i> the form above, with its own seq, origin and
// traceparent, in seq order; lengths in bytes, decimal. A single message
// starts with a digit, a run with `*`, so a reader tells them apart. The
// stream and the retained value always hold single messages (one entry per
// publication), so history reads do not know about runs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/PublishSink.h"
#include "telemetry/TraceContext.h"

namespace wsr::broker {

struct RedisMessage {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  int64_t tsMs = 0;
  uint64_t origin = 0;           // 0: not given
  hub::Publication publication;  // channel left empty: the carrier names it; trace set
};

// What the script writes (tests, and tools that speak to the same Redis).
std::string encodeRedisMessage(uint64_t seq, uint64_t epoch, int64_t tsMs, std::string_view type,
                               std::string_view key, std::string_view data, uint64_t origin = 0,
                               const telemetry::TraceContext& trace = {});
// Null when the bytes are not such a message. A traceparent that does not
// parse is no trace (the publication is still delivered).
std::optional<RedisMessage> decodeRedisMessage(std::string_view bytes);

// A run of n > 1 messages as the script publishes it (tests, tools).
std::string encodeRedisRun(const std::vector<std::string>& messages);
// A pub/sub message: a single message or a run, in order. Null when it is
// neither, or when any message of a run is not one.
std::optional<std::vector<RedisMessage>> decodeRedisMessages(std::string_view bytes);

}  // namespace wsr::broker
