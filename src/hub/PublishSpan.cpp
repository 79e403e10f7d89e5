#include "hub/PublishSpan.h"

#include "hub/ChannelName.h"

namespace wsr::hub {

telemetry::ActiveSpan startPublishSpan(telemetry::Tracer& tracer, const Publication& publication,
                                       std::string_view system) {
  telemetry::ActiveSpan span =
      tracer.startSpan("broker.publish", telemetry::SpanKind::Internal, publication.trace);
  if (span.recording()) {
    // Bounded: an invalid name may be as long as the request allowed.
    const std::string_view channel =
        std::string_view(publication.channel).substr(0, kMaxChannelNameBytes);
    span.setString("messaging.destination.name", channel);
    span.setString("wsrouter.namespace", namespaceOf(channel));
    if (!system.empty()) span.setString("messaging.system", system);
  }
  return span;
}

void endPublishSpan(telemetry::ActiveSpan& span, const PublishResult& result) {
  if (result.ok()) {
    span.setInt("wsrouter.seq", static_cast<int64_t>(result.seq));
  } else {
    span.setError(errorCodeOf(result.error));
  }
}

}  // namespace wsr::hub
