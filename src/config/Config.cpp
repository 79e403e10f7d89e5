#include "config/Config.h"

#include <unistd.h>

#include "config/Schema.h"

namespace wsr::config {

std::string_view toString(SlowConsumerPolicy policy) {
  for (const auto& [name, value] : schema::kPolicyNames) {
    if (value == policy) return name;
  }
  return "unknown";
}

std::string_view toString(LogLevel level) {
  for (const auto& [name, value] : schema::kLogLevelNames) {
    if (value == level) return name;
  }
  return "unknown";
}

std::string_view toString(AuthMode mode) {
  for (const auto& [name, value] : schema::kAuthModeNames) {
    if (value == mode) return name;
  }
  return "unknown";
}

std::string_view toString(BrokerType type) {
  for (const auto& [name, value] : schema::kBrokerTypeNames) {
    if (value == type) return name;
  }
  return "unknown";
}

std::string_view toString(RedisMode mode) {
  for (const auto& [name, value] : schema::kRedisModeNames) {
    if (value == mode) return name;
  }
  return "unknown";
}

std::map<std::string, NamespaceConfig, std::less<>> builtinNamespaces() {
  std::map<std::string, NamespaceConfig, std::less<>> namespaces;
  const NamespaceConfig base;
  namespaces.emplace(kDefaultNamespace, base);
  for (const auto& preset : schema::kNamespacePresets) {
    NamespaceConfig entry = base;
    preset.apply(entry);
    namespaces.emplace(preset.name, entry);
  }
  return namespaces;
}

const NamespaceConfig& Config::namespaceFor(std::string_view channel) const {
  const std::string_view name = channel.substr(0, channel.find(':'));
  if (auto it = namespaces.find(name); it != namespaces.end()) return it->second;
  if (auto it = namespaces.find(kDefaultNamespace); it != namespaces.end()) return it->second;
  // Only a hand-built Config can lack `default`; the loader always adds it.
  static const NamespaceConfig builtinDefault;
  return builtinDefault;
}

namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '-';
}

bool isNameOfAtMost(std::string_view text, size_t maxBytes) {
  if (text.empty() || text.size() > maxBytes) return false;
  for (char c : text) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

}  // namespace

bool isValidNamespaceName(std::string_view name) {
  return isNameOfAtMost(name, 128);
}

namespace schema {
bool isNonEmpty(std::string_view text) {
  return !text.empty();
}
bool isAnything(std::string_view) {
  return true;
}
bool isHttpUrl(std::string_view text) {
  const size_t schemeEnd = text.find("://");
  if (schemeEnd == std::string_view::npos) return false;
  const std::string_view scheme = text.substr(0, schemeEnd);
  if (scheme != "http" && scheme != "https") return false;
  const std::string_view rest = text.substr(schemeEnd + 3);
  const size_t hostEnd = rest.find_first_of(":/");
  if (rest.empty() || hostEnd == 0) return false;
  for (char c : rest) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}
bool isChannelPart(std::string_view text) {
  return isNameOfAtMost(text, 32);
}
bool isRedisUser(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

bool isClaimRequirement(std::string_view text) {
  if (text.empty()) return true;
  const size_t equals = text.find('=');
  return equals != std::string_view::npos && equals > 0 && equals + 1 < text.size() &&
         isNameOfAtMost(text.substr(0, equals), 128);
}
bool isHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string_view port = text.substr(colon + 1);
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  for (char c : text.substr(0, colon)) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return value >= 1 && value <= 65535;
}
bool isJwtAlgorithm(std::string_view text) {
  return text == "HS256" || text == "RS256" || text == "ES256";
}
}  // namespace schema

std::string ConfigError::message() const {
  std::string out;
  if (!where.empty()) out += where + ": ";
  switch (kind) {
    case Kind::File:
      out += "cannot read the config file";
      break;
    case Kind::Syntax:
      out += "YAML syntax error";
      break;
    case Kind::UnknownKey:
      out += "unknown key " + path + "; expected " + expected;
      break;
    case Kind::DuplicateKey:
      out += "duplicate key " + path;
      break;
    case Kind::UnknownVariable:
      // The value is deliberately not shown: it may be a secret meant elsewhere.
      out += "matches no configuration key; expected " + expected;
      break;
    case Kind::WrongType:
    case Kind::OutOfRange:
    case Kind::BadValue:
      out += path + ": got \"" + value + "\", expected " + expected;
      break;
  }
  if (!detail.empty()) out += (kind == Kind::File || kind == Kind::Syntax ? ": " : " ") + detail;
  return out;
}

Environment Environment::fromProcess() {
  std::map<std::string, std::string> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos || !text.starts_with("WSROUTER_")) continue;
    vars.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return Environment(std::move(vars));
}

}  // namespace wsr::config
