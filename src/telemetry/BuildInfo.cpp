#include "telemetry/BuildInfo.h"

#include <prometheus/gauge.h>

#ifndef WSROUTER_VERSION
#define WSROUTER_VERSION "unknown"
#endif
#ifndef WSROUTER_REVISION
#define WSROUTER_REVISION "unknown"
#endif

namespace wsr::telemetry {

BuildInfo BuildInfo::ofThisBuild() {
#if defined(__clang__)
  return {WSROUTER_VERSION, WSROUTER_REVISION, __VERSION__};  // "Debian Clang 14.0.6"
#elif defined(__GNUC__)
  return {WSROUTER_VERSION, WSROUTER_REVISION, "gcc " __VERSION__};
#else
  return {WSROUTER_VERSION, WSROUTER_REVISION, "unknown"};
#endif
}

void registerBuildInfo(prometheus::Registry& registry, const BuildInfo& info) {
  prometheus::BuildGauge()
      .Name("wsrouter_build_info")
      .Help("Always 1; the labels say which build this is.")
      .Register(registry)
      .Add({{"version", info.version}, {"revision", info.revision}, {"compiler", info.compiler}})
      .Set(1);
}

}  // namespace wsr::telemetry
