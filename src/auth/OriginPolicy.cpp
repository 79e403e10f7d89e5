#include "auth/OriginPolicy.h"

#include <cctype>

#include "text/Concat.h"

namespace wsr::auth {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '[' ||
         c == ']' || c == ':';
}

}  // namespace

bool OriginPolicy::split(std::string_view origin, Entry& out) {
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  out.scheme = lower(origin.substr(0, sep));
  std::string_view rest = origin.substr(sep + 3);
  if (rest.empty()) return false;
  // The port follows the last ':' outside an IPv6 literal's brackets.
  const size_t bracket = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  std::string_view host = rest;
  out.port.clear();
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
    if (out.port.empty()) return false;
    for (char c : out.port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  if ((out.scheme == "https" && out.port == "443") || (out.scheme == "http" && out.port == "80")) {
    out.port.clear();
  }
  out.wildcard = host.starts_with("*.");
  if (out.wildcard) host.remove_prefix(2);
  if (host.empty()) return false;
  for (char c : host) {
    if (!isHostChar(c)) return false;
  }
  out.host = lower(host);
  return true;
}

std::optional<OriginPolicy> OriginPolicy::parse(const std::vector<std::string>& entries,
                                                std::string& error) {
  OriginPolicy policy;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry entry;
    if (!split(entries[i], entry)) {
      error = text::concat("[", std::to_string(i), "]: '");
      error.append(entries[i])
          .append(
              "' is not an origin: expected scheme://host[:port] or scheme://*.domain, "
              "e.g. https://app.example.com");
      return std::nullopt;
    }
    policy.entries_.push_back(std::move(entry));
  }
  return policy;
}

bool OriginPolicy::allows(std::string_view origin) const {
  if (entries_.empty() || origin.empty()) return true;
  Entry candidate;
  if (origin == "null" || !split(origin, candidate) || candidate.wildcard) return false;
  for (const Entry& entry : entries_) {
    if (entry.scheme != candidate.scheme || entry.port != candidate.port) continue;
    if (!entry.wildcard) {
      if (entry.host == candidate.host) return true;
      continue;
    }
    const std::string& host = candidate.host;
    if (host.size() > entry.host.size() + 1 && host.ends_with(entry.host) &&
        host[host.size() - entry.host.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace wsr::auth
