#pragma once
// The schema's key paths (Schema.h), as patterns: a namespace map gives a
// wildcard segment. The environment overrides match variable names against
// them, and configKeyPaths() lists them.

#include <string>
#include <string_view>
#include <vector>

namespace wsr::config {

using Path = std::vector<std::string>;
std::string joinPath(const Path& path);  // "server.port"

struct Segment {
  std::string name;                               // empty for a wildcard
  std::vector<std::string> names;                 // wildcard: the names the schema itself knows
  bool (*validName)(std::string_view) = nullptr;  // wildcard: which names may exist
};
using Pattern = std::vector<Segment>;

std::vector<Pattern> schemaPatterns();

}  // namespace wsr::config
