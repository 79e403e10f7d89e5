#pragma once
// A SpanExporter for tests: keeps every span it is given.

#include <memory>
#include <mutex>
#include <vector>

#include "telemetry/SpanExporter.h"

namespace wsr::telemetry {

class RecordingExporter final : public SpanExporter {
 public:
  void submit(std::unique_ptr<Span> span) override {
    std::lock_guard lock(mutex_);
    spans_.push_back(*span);
  }
  void shutdown(std::chrono::milliseconds) override {}

  std::vector<Span> spans() const {
    std::lock_guard lock(mutex_);
    return spans_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Span> spans_;
};

}  // namespace wsr::telemetry
