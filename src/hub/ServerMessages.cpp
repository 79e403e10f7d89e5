#include "hub/ServerMessages.h"

#include <charconv>
#include <cstring>

#include "hub/JsonWriter.h"

namespace wsr::hub {

// The program's one escaper (text/JsonString.h), and so its one policy for
// invalid UTF-8.

std::string welcomeMessage(std::string_view session, std::string_view resume, uint32_t heartbeatMs,
                           int64_t serverTimeMs) {
  std::string out = startMessage("welcome", 112 + session.size() + resume.size());
  appendKey(out, "session");
  appendJsonString(out, session);
  appendKey(out, "resume");
  appendJsonString(out, resume);
  appendKey(out, "heartbeat_ms");
  appendNumber(out, heartbeatMs);
  appendKey(out, "server_time");
  appendNumber(out, serverTimeMs);
  out += '}';
  return out;
}

std::string subscribedMessage(std::optional<int64_t> id, std::string_view channel, uint64_t seq,
                              std::optional<bool> recovered) {
  std::string out = startMessage("subscribed", 112 + channel.size());
  appendId(out, id);
  appendKey(out, "channel");
  appendJsonString(out, channel);
  appendKey(out, "seq");
  appendNumber(out, seq);
  if (recovered) {
    appendKey(out, "recovered");
    out += *recovered ? "true" : "false";
  }
  out += '}';
  return out;
}

std::string unsubscribedMessage(std::optional<int64_t> id, std::string_view channel) {
  std::string out = startMessage("unsubscribed", 80 + channel.size());
  appendId(out, id);
  appendKey(out, "channel");
  appendJsonString(out, channel);
  out += '}';
  return out;
}

std::string pongMessage(std::optional<int64_t> id, int64_t serverTimeMs) {
  std::string out = startMessage("pong", 80);
  appendId(out, id);
  appendKey(out, "server_time");
  appendNumber(out, serverTimeMs);
  out += '}';
  return out;
}

std::string authenticatedMessage(std::optional<int64_t> id, int64_t expiresAt) {
  std::string out = startMessage("authenticated", 80);
  appendId(out, id);
  if (expiresAt > 0) {
    appendKey(out, "expires_at");
    appendNumber(out, expiresAt);
  }
  out += '}';
  return out;
}

std::string resumedMessage(std::optional<int64_t> id, std::string_view session,
                           const std::vector<std::string>& channels) {
  size_t size = 64 + session.size();
  for (const std::string& channel : channels)
    size += channel.size() + 3;
  std::string out = startMessage("resumed", size);
  appendId(out, id);
  appendKey(out, "session");
  appendJsonString(out, session);
  appendKey(out, "channels");
  out += '[';
  for (size_t i = 0; i < channels.size(); ++i) {
    if (i != 0) out += ',';
    appendJsonString(out, channels[i]);
  }
  out += "]}";
  return out;
}

std::string errorMessage(std::optional<int64_t> id, std::string_view code,
                         std::string_view message) {
  std::string out = startMessage("error", 80 + code.size() + message.size());
  appendId(out, id);
  appendKey(out, "code");
  appendJsonString(out, code);
  appendKey(out, "message");
  appendJsonString(out, message);
  out += '}';
  return out;
}

std::string gapMessage(std::string_view channel, uint64_t from, uint64_t to,
                       std::string_view reason) {
  std::string out = startMessage("gap", 96 + channel.size() + reason.size());
  appendKey(out, "channel");
  appendJsonString(out, channel);
  appendKey(out, "from");
  appendNumber(out, from);
  appendKey(out, "to");
  appendNumber(out, to);
  appendKey(out, "reason");
  appendJsonString(out, reason);
  out += '}';
  return out;
}

namespace {

constexpr std::string_view kType = "{\"type\":";
constexpr std::string_view kChannel = ",\"channel\":";
constexpr std::string_view kSeq = ",\"seq\":";
constexpr std::string_view kTs = ",\"ts\":";
constexpr std::string_view kData = ",\"data\":";

// Bytes the escaper copies as they are. Anything else (bytes >= 0x80
// included, valid or not) goes through the escaper itself, so its policy
// stays the one policy.
bool copiedAsIs(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\') return false;
  }
  return true;
}

char* put(char* out, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

template <typename Integer>
char* putNumber(char* out, Integer value) {
  char digits[24];  // 20 digits and a sign fit
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  return put(out, {digits, static_cast<size_t>(result.ptr - digits)});
}

}  // namespace

DataEnvelope::Quoted::Quoted(std::string_view text) : plain(text) {
  if (!copiedAsIs(text)) appendJsonString(escaped, text);
}

char* DataEnvelope::Quoted::writeTo(char* out) const {
  if (!escaped.empty()) return put(out, escaped);
  *out++ = '"';
  out = put(out, plain);
  *out++ = '"';
  return out;
}

DataEnvelope::DataEnvelope(std::string_view type, std::string_view channel, uint64_t seq,
                           int64_t tsMs, std::string_view data)
    : type_(type), channel_(channel), seq_(seq), tsMs_(tsMs), data_(data) {
  size_ = kType.size() + type_.size() + kChannel.size() + channel_.size() + kSeq.size() +
          numberLength(seq) + kTs.size() + numberLength(tsMs) + kData.size() + data.size() + 1;
}

void DataEnvelope::writeTo(char* out) const {
  out = put(out, kType);
  out = type_.writeTo(out);
  out = put(out, kChannel);
  out = channel_.writeTo(out);
  out = put(out, kSeq);
  out = putNumber(out, seq_);
  out = put(out, kTs);
  out = putNumber(out, tsMs_);
  out = put(out, kData);
  out = put(out, data_);
  *out = '}';
}

std::string dataMessage(std::string_view type, std::string_view channel, uint64_t seq, int64_t tsMs,
                        std::string_view data) {
  const DataEnvelope envelope(type, channel, seq, tsMs, data);
  std::string out(envelope.size(), '\0');
  envelope.writeTo(out.data());
  return out;
}

}  // namespace wsr::hub
