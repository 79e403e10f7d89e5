#pragma once
// What was built: the project version (CMake), the git revision at
// configure time ("unknown" outside a git checkout) and the compiler, as
// the labels of wsrouter_build_info (always 1).

#include <string>

#include <prometheus/registry.h>

namespace wsr::telemetry {

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string compiler;

  // This binary's, from the definitions CMake passes to BuildInfo.cpp.
  static BuildInfo ofThisBuild();
};

// Adds wsrouter_build_info{version,revision,compiler} 1 to `registry`.
void registerBuildInfo(prometheus::Registry& registry, const BuildInfo& info);

}  // namespace wsr::telemetry
