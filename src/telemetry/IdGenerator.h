#pragma once
// Fresh trace and span ids: random, never all zero (an all-zero id is
// invalid). Each thread has its own generator, seeded once from
// std::random_device, so making an id takes no lock and no system call.

#include "telemetry/TraceContext.h"

namespace wsr::telemetry {

TraceId newTraceId();
SpanId newSpanId();

}  // namespace wsr::telemetry
