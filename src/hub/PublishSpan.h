#pragma once
// The broker.publish span around one publication, the same whichever
// broker takes it (memory: the hub; redis: the Redis broker): a child of the
// publication's trace (the publish request's span; a root for the demo
// feed), naming the channel, ended with the seq or the refusal's code.

#include "hub/PublishSink.h"
#include "telemetry/ActiveSpan.h"
#include "telemetry/Tracer.h"

namespace wsr::hub {

// `system` names the broker in messaging.system when not empty.
telemetry::ActiveSpan startPublishSpan(telemetry::Tracer& tracer, const Publication& publication,
                                       std::string_view system = {});
// Records the outcome on the span (wsrouter.seq, or the error code).
void endPublishSpan(telemetry::ActiveSpan& span, const PublishResult& result);

}  // namespace wsr::hub
