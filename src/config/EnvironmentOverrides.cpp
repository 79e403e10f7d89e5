#include "config/EnvironmentOverrides.h"

#include <algorithm>

#include "config/Suggestion.h"

namespace wsr::config {

YAML::Node mapChild(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

namespace {

std::string envForm(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out += (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
  }
  return out;
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool matchPattern(const Pattern& pattern, size_t segment, std::string_view rest,
                  const YAML::Node& yaml, Path& out) {
  if (segment == pattern.size()) return rest.empty();
  const Segment& seg = pattern[segment];
  const bool last = segment + 1 == pattern.size();
  if (!seg.name.empty()) {
    const std::string token = envForm(seg.name);
    if (!rest.starts_with(token)) return false;
    std::string_view after = rest.substr(token.size());
    if (!last) {
      if (!after.starts_with('_')) return false;
      after.remove_prefix(1);
    }
    out.push_back(seg.name);
    if (matchPattern(pattern, segment + 1, after, mapChild(yaml, seg.name), out)) return true;
    out.pop_back();
    return false;
  }
  // Wildcard: try each '_' boundary, shortest name first.
  std::vector<std::string> known = seg.names;
  if (yaml.IsMap()) {
    for (const auto& entry : yaml) {
      if (entry.first.IsScalar()) known.push_back(entry.first.Scalar());
    }
  }
  for (size_t end = rest.find('_'); end != std::string_view::npos; end = rest.find('_', end + 1)) {
    const std::string_view envName = rest.substr(0, end);
    std::string name = lowerCase(envName);
    for (const auto& candidate : known) {
      if (envForm(candidate) == envName) name = candidate;
    }
    if (!seg.validName(name)) continue;
    out.push_back(name);
    if (matchPattern(pattern, segment + 1, rest.substr(end + 1), mapChild(yaml, name), out)) {
      return true;
    }
    out.pop_back();
  }
  return false;
}

// Kubernetes gives every pod <SERVICE>_SERVICE_HOST, <SERVICE>_PORT=tcp://...
// and friends for each Service in its namespace; a Service named wsrouter or
// wsrouter-admin would otherwise read as (bad) overrides and stop the start.
bool isKubernetesServiceLink(std::string_view name, std::string_view value) {
  if (name.find("_SERVICE_HOST") != std::string_view::npos) return true;
  if (name.find("_SERVICE_PORT") != std::string_view::npos) return true;
  for (std::string_view scheme : {"tcp://", "udp://", "sctp://"}) {
    if (value.starts_with(scheme)) return true;
  }
  for (size_t at = name.find("_PORT_"); at != std::string_view::npos;
       at = name.find("_PORT_", at + 1)) {
    std::string_view after = name.substr(at + 6);
    const size_t digits = after.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos) continue;
    after.remove_prefix(digits);
    if (after.starts_with("_TCP") || after.starts_with("_UDP") || after.starts_with("_SCTP")) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> exampleVariables(const std::vector<Pattern>& patterns) {
  std::vector<std::string> names;
  for (const auto& pattern : patterns) {
    std::string name = "WSROUTER";
    for (const auto& segment : pattern) {
      name += '_';  // appended apart: `"_" + string` trips GCC 12's -Wrestrict
      name += envForm(segment.name.empty() ? kDefaultNamespace : segment.name);
    }
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

std::map<std::string, Override> resolveEnvironment(const Environment& env, const YAML::Node& root,
                                                   std::vector<ConfigError>& errors) {
  std::map<std::string, Override> overrides;
  static constexpr std::string_view kPrefix = "WSROUTER_";
  const std::vector<Pattern> patterns = schemaPatterns();
  for (const auto& [name, value] : env.vars()) {
    if (!name.starts_with(kPrefix) || name == kConfigFileVariable) continue;
    if (isKubernetesServiceLink(name, value)) continue;
    const std::string_view rest = std::string_view(name).substr(kPrefix.size());
    Path path;
    const bool found = std::any_of(patterns.begin(), patterns.end(), [&](const Pattern& pattern) {
      path.clear();
      return matchPattern(pattern, 0, rest, root, path);
    });
    if (!found) {
      ConfigError error;
      error.kind = ConfigError::Kind::UnknownVariable;
      error.where = "environment variable " + name;
      error.expected = "WSROUTER_<PATH> naming a key, e.g. WSROUTER_SERVER_PORT for server.port";
      error.detail = suggestion(name, exampleVariables(patterns));
      errors.push_back(std::move(error));
      continue;
    }
    overrides[joinPath(path)] = Override{path, name, value};
  }
  return overrides;
}

}  // namespace wsr::config
