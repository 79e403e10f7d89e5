#pragma once
// Where finished spans go: an exporter takes them from any thread without
// ever blocking on I/O, and counts what it delivered and what it lost.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "telemetry/Span.h"

namespace wsr::telemetry {

enum class DropReason : uint8_t {
  QueueFull,     // the export queue was full when the span ended
  ExportFailed,  // the collector refused the batch, or could not be reached in time
};
inline constexpr size_t kDropReasonCount = 2;
std::string_view dropReasonName(DropReason reason);  // "queue_full", "export_failed"

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;

  // Any thread, never blocking: takes the span, or drops and counts it.
  virtual void submit(std::unique_ptr<Span> span) = 0;
  // Exports what is queued within `deadline`, then stops; spans submitted
  // afterwards are discarded. Idempotent; not from two threads at once.
  virtual void shutdown(std::chrono::milliseconds deadline) = 0;

  uint64_t exportedSpans() const { return exported_.load(std::memory_order_relaxed); }
  uint64_t droppedSpans(DropReason reason) const {
    return dropped_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }

 protected:
  void countExported(uint64_t spans) { exported_.fetch_add(spans, std::memory_order_relaxed); }
  void countDropped(DropReason reason, uint64_t spans) {
    dropped_[static_cast<size_t>(reason)].fetch_add(spans, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> exported_{0};
  std::array<std::atomic<uint64_t>, kDropReasonCount> dropped_{};
};

}  // namespace wsr::telemetry
