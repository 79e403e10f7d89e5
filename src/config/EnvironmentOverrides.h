#pragma once
// WSROUTER_* environment variables -> key paths (for Kubernetes, where env
// entries are easier to set than a file).
//
// WSROUTER_ + the path's segments in upper case joined by '_'. Keys contain
// '_' themselves, so a name is resolved by matching it against the schema's
// paths token by token, not by splitting it. A namespace segment matches the
// env form of a configured name (upper case, other characters as '_'), or else
// names a new namespace in lower case.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "config/Config.h"
#include "config/KeyPaths.h"

namespace wsr::config {

// A value set by an environment variable, addressed by its resolved key path.
struct Override {
  Path path;
  std::string variable;
  std::string value;
};

// Every WSROUTER_* variable of `env` resolved to its key path (joinPath of
// it is the map's key), given the file's YAML (for its namespace names).
// A variable that names no key adds an error naming it, with a suggestion.
// Kubernetes' own service variables are skipped.
std::map<std::string, Override> resolveEnvironment(const Environment& env, const YAML::Node& root,
                                                   std::vector<ConfigError>& errors);

// The value of `key` in a YAML map, or an undefined node.
YAML::Node mapChild(const YAML::Node& map, std::string_view key);

}  // namespace wsr::config
