#include "telemetry/SpanExporter.h"

namespace wsr::telemetry {

std::string_view dropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::QueueFull:
      return "queue_full";
    case DropReason::ExportFailed:
      return "export_failed";
  }
  return "unknown";
}

}  // namespace wsr::telemetry
