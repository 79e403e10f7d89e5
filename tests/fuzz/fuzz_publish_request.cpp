// libFuzzer target: what publishers send. The input is parsed as a publish
// body, a batch body and a publisher WebSocket frame. Whatever parses must
// obey the rules a client relies on: a valid channel name, a `type` that
// needs no escaping, and `data` that is one valid JSON value; refusals name
// what was wrong (a non-empty message); the answers built from the result
// are valid JSON.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/JsonBody.h"
#include "admin/PublishRequest.h"
#include "hub/ChannelName.h"

namespace {

using wsr::admin::ParsedPublication;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void checkJson(simdjson::dom::parser& json, std::string_view text) {
  check(json.parse(simdjson::padded_string(text)).error() == simdjson::SUCCESS);
}

void checkPublication(simdjson::dom::parser& json, const ParsedPublication& parsed) {
  if (!parsed.ok()) {
    check(!parsed.message.empty());
    checkJson(json, wsr::admin::errorJson(wsr::hub::errorCodeOf(parsed.error), parsed.message));
    return;
  }
  const wsr::hub::Publication& publication = parsed.publication;
  check(wsr::hub::isValidChannelName(publication.channel));
  check(wsr::admin::isValidMessageType(publication.type));
  check(publication.key.size() <= wsr::admin::kMaxKeyBytes);
  checkJson(json, publication.data);
  checkJson(json, wsr::admin::publishResultJson(publication.channel, {{}, {}, 42}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  simdjson::dom::parser json;
  checkPublication(json, wsr::admin::parsePublishBody(input));
  const wsr::admin::ParsedFrame frame = wsr::admin::parsePublishFrame(input);
  checkPublication(json, frame.publication);
  const wsr::admin::ParsedBatch batch = wsr::admin::parseBatchBody(input, 100);
  if (!batch.ok()) {
    check(!batch.message.empty() && batch.messages.empty());
  } else {
    check(batch.messages.size() <= 100);
    for (const ParsedPublication& message : batch.messages)
      checkPublication(json, message);
  }
  return 0;
}
