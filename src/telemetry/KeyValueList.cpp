#include "telemetry/KeyValueList.h"

namespace wsr::telemetry {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// An HTTP header name is a token (RFC 9110); resource keys are looser, but
// neither may be empty or hold separators of this list.
bool isValidKey(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == ',' || c == '=' || c == ';' ||
        c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool percentDecode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? hexValue(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high << 4 | low);
    i += 2;
  }
  return true;
}

KeyValues parseKeyValueList(std::string_view text, std::string_view variable,
                            std::vector<std::string>& warnings) {
  KeyValues out;
  size_t position = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    ++position;
    if (trimmed(entry).empty()) continue;  // "a=1,,b=2" or a trailing comma
    const size_t equals = entry.find('=');
    const std::string_view key =
        trimmed(equals == std::string_view::npos ? entry : entry.substr(0, equals));
    std::string value;
    if (equals == std::string_view::npos || !isValidKey(key) ||
        !percentDecode(trimmed(entry.substr(equals + 1)), value)) {
      warnings.push_back(std::string(variable) + ": entry " + std::to_string(position) +
                         " is not key=value (percent-encoded); ignored");
      continue;
    }
    out.emplace_back(std::string(key), std::move(value));
  }
  return out;
}

}  // namespace wsr::telemetry
