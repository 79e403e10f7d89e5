// libFuzzer target: client messages. The input is one text message, parsed
// by parseClientMessage and by a reused ClientMessageParser (which must
// agree); what parses is written back through appendJsonString and must
// come back unchanged; every answer built from the input, including the raw
// bytes themselves as a JSON string, must be valid JSON.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/ClientMessage.h"
#include "hub/JsonWriter.h"
#include "hub/ServerMessages.h"

namespace {

using wsr::hub::ClientMessage;
using wsr::hub::ClientMessageError;
using wsr::hub::ClientOp;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void checkValidJson(simdjson::dom::parser& json, const std::string& text) {
  check(json.parse(text).error() == simdjson::SUCCESS);
}

void checkSame(const ClientMessage& a, const ClientMessage& b) {
  check(a.op == b.op && a.id == b.id && a.channels == b.channels && a.since == b.since &&
        a.token == b.token && a.session == b.session && a.resume == b.resume);
}

void checkSame(const ClientMessageError& a, const ClientMessageError& b) {
  check(a.code == b.code && a.message == b.message && a.id == b.id);
}

// The rules a successful parse promises.
void checkAccepted(const ClientMessage& message, size_t maxChannels) {
  const bool channelsOp = message.op == ClientOp::Subscribe || message.op == ClientOp::Unsubscribe;
  check(channelsOp ? !message.channels.empty() && message.channels.size() <= maxChannels
                   : message.channels.empty());
  check(message.since.size() <= maxChannels);
  check(message.op == ClientOp::Subscribe || message.since.empty());
  check(message.op != ClientOp::Auth || !message.token.empty());
}

// Every string read from the message, written with appendJsonString into
// an array and read back with simdjson: each must come back as it was.
void checkRoundTrip(simdjson::dom::parser& json, const ClientMessage& message) {
  std::vector<std::string_view> strings(message.channels.begin(), message.channels.end());
  for (const auto& [channel, seq] : message.since)
    strings.push_back(channel);
  strings.push_back(message.token);
  strings.push_back(message.session);
  strings.push_back(message.resume);
  std::string text = "[";
  for (std::string_view s : strings) {
    if (text.size() > 1) text += ',';
    wsr::hub::appendJsonString(text, s);
  }
  text += ']';
  simdjson::dom::array array;
  check(json.parse(text).get(array) == simdjson::SUCCESS);
  size_t i = 0;
  for (simdjson::dom::element element : array) {
    std::string_view value;
    check(element.get_string().get(value) == simdjson::SUCCESS);
    check(i < strings.size() && value == strings[i]);
    ++i;
  }
  check(i == strings.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t maxChannels = 1 + size % 8;  // varies the limit without spending input bytes

  ClientMessage message;
  ClientMessageError error;
  const bool ok = wsr::hub::parseClientMessage(text, maxChannels, message, error);

  // The reusable parser: after a different (shorter) document, it must still
  // give the same answer, and reset everything from the previous call.
  wsr::hub::ClientMessageParser parser;
  ClientMessage again;
  ClientMessageError againError;
  (void)parser.parse(text.substr(0, size / 2), maxChannels, again, againError);
  check(parser.parse(text, maxChannels, again, againError) == ok);
  checkSame(error, againError);
  if (ok) checkSame(message, again);

  simdjson::dom::parser json;
  if (ok) {
    check(error.code.empty());
    checkAccepted(message, maxChannels);
    checkRoundTrip(json, message);
    checkValidJson(json, wsr::hub::pongMessage(message.id, 1));
    for (const std::string& channel : message.channels) {
      checkValidJson(json, wsr::hub::subscribedMessage(message.id, channel, 1, true));
    }
  } else {
    check(error.code == "BAD_REQUEST" || error.code == "UNKNOWN_OP");
    check(!error.message.empty());
    checkValidJson(json, wsr::hub::errorMessage(error.id, error.code, error.message));
  }

  // Arbitrary bytes, invalid UTF-8 and control characters included.
  std::string raw;
  wsr::hub::appendJsonString(raw, text);
  checkValidJson(json, raw);
  const std::string envelope = wsr::hub::dataMessage(text, text, size, -1, "null");
  checkValidJson(json, envelope);
  return 0;
}
