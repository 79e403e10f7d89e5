#pragma once
// The hand-written JSON writer of the hot path (the data envelope, the
// server's control messages): appends straight into one reserved string, no
// DOM, no allocation beyond it. Strings go through the program's one
// escaper (text/JsonString.h). Cold paths use nlohmann::json instead.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "text/JsonString.h"

namespace wsr::hub {

// Exactly the number of bytes appendJsonString writes for `text`, so
// dataMessage can reserve once.
inline size_t jsonStringLength(std::string_view text) {
  return text::jsonStringLength(text);
}

// Appends `text` to `out` as a JSON string literal, quotes included.
inline void appendJsonString(std::string& out, std::string_view text) {
  text::appendJsonString(out, text);
}

template <typename Integer>
inline void appendNumber(std::string& out, Integer value) {
  char buffer[24];  // 20 digits and a sign fit
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

template <typename Integer>
inline size_t numberLength(Integer value) {
  char buffer[24];
  return static_cast<size_t>(std::to_chars(buffer, buffer + sizeof(buffer), value).ptr - buffer);
}

// ,"name":
inline void appendKey(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

inline void appendId(std::string& out, std::optional<int64_t> id) {
  if (!id) return;
  appendKey(out, "id");
  appendNumber(out, *id);
}

// {"type":"<type>"  (no closing brace: the caller appends the fields).
inline std::string startMessage(std::string_view type, size_t reserve) {
  std::string out;
  out.reserve(reserve);
  out += "{\"type\":";
  appendJsonString(out, type);
  return out;
}

}  // namespace wsr::hub
