#include "broker/RedisMessage.h"

#include <charconv>

namespace wsr::broker {
namespace {

// The next space- or newline-terminated word of `text`, consumed with its end.
std::optional<std::string_view> word(std::string_view& text, char end) {
  const size_t at = text.find(end);
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  std::string_view out = text.substr(0, at);
  text.remove_prefix(at + 1);
  return out;
}

template <typename T>
bool number(std::optional<std::string_view> text, T& out) {
  if (!text) return false;
  const auto [end, status] = std::from_chars(text->data(), text->data() + text->size(), out);
  return status == std::errc() && end == text->data() + text->size();
}

}  // namespace

std::string encodeRedisMessage(uint64_t seq, uint64_t epoch, int64_t tsMs, std::string_view type,
                               std::string_view key, std::string_view data, uint64_t origin,
                               const telemetry::TraceContext& trace) {
  std::string out = std::to_string(seq);
  out += ' ';
  out += std::to_string(epoch);
  out += ' ';
  out += std::to_string(tsMs);
  out += ' ';
  out += type;
  out += ' ';
  out += std::to_string(key.size());
  out += ' ';
  out += std::to_string(origin);
  out += ' ';
  out += trace.valid() ? telemetry::formatTraceparent(trace) : std::string("-");
  out += '\n';
  out += key;
  out += data;
  return out;
}

std::optional<RedisMessage> decodeRedisMessage(std::string_view bytes) {
  RedisMessage out;
  size_t keyBytes = 0;
  if (!number(word(bytes, ' '), out.seq) || !number(word(bytes, ' '), out.epoch) ||
      !number(word(bytes, ' '), out.tsMs)) {
    return std::nullopt;
  }
  const auto type = word(bytes, ' ');
  // The rest of the head: `<key length>`, or `<key length> <origin> <traceparent>`.
  std::optional<std::string_view> head = word(bytes, '\n');
  if (!type || !head) return std::nullopt;
  std::string_view rest = *head;
  const size_t space = rest.find(' ');
  if (!number(std::optional<std::string_view>(rest.substr(0, space)), keyBytes) ||
      keyBytes > bytes.size()) {
    return std::nullopt;
  }
  if (space != std::string_view::npos) {
    rest.remove_prefix(space + 1);
    const size_t next = rest.find(' ');
    if (next == std::string_view::npos ||
        !number(std::optional<std::string_view>(rest.substr(0, next)), out.origin)) {
      return std::nullopt;
    }
    const std::string_view trace = rest.substr(next + 1);
    if (trace.empty() || trace.find(' ') != std::string_view::npos) return std::nullopt;
    if (trace != "-") {
      out.publication.trace =
          telemetry::parseTraceparent(trace).value_or(telemetry::TraceContext{});
    }
  }
  if (out.seq == 0) return std::nullopt;
  out.publication.type = std::string(*type);
  out.publication.key = std::string(bytes.substr(0, keyBytes));
  out.publication.data = std::string(bytes.substr(keyBytes));
  return out;
}

std::string encodeRedisRun(const std::vector<std::string>& messages) {
  std::string out(1, '*');
  out += std::to_string(messages.size());
  out += '\n';
  for (const std::string& message : messages) {
    out += std::to_string(message.size());
    out += '\n';
    out += message;
  }
  return out;
}

std::optional<std::vector<RedisMessage>> decodeRedisMessages(std::string_view bytes) {
  std::vector<RedisMessage> out;
  if (!bytes.starts_with('*')) {
    std::optional<RedisMessage> one = decodeRedisMessage(bytes);
    if (!one) return std::nullopt;
    out.push_back(std::move(*one));
    return out;
  }
  bytes.remove_prefix(1);
  size_t count = 0;
  // Each message takes more than 2 bytes: a count beyond that is a lie.
  if (!number(word(bytes, '\n'), count) || count == 0 || count > bytes.size() / 2) {
    return std::nullopt;
  }
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    size_t length = 0;
    if (!number(word(bytes, '\n'), length) || length > bytes.size()) return std::nullopt;
    std::optional<RedisMessage> one = decodeRedisMessage(bytes.substr(0, length));
    if (!one) return std::nullopt;
    out.push_back(std::move(*one));
    bytes.remove_prefix(length);
  }
  if (!bytes.empty()) return std::nullopt;
  return out;
}

}  // namespace wsr::broker
