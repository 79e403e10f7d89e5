#include "telemetry/ActiveSpan.h"

#include "telemetry/Tracer.h"

namespace wsr::telemetry {

ActiveSpan::ActiveSpan(ActiveSpan&& other) noexcept
    : tracer_(other.tracer_), context_(other.context_), span_(std::move(other.span_)) {}

ActiveSpan& ActiveSpan::operator=(ActiveSpan&& other) noexcept {
  if (this != &other) {
    end();
    tracer_ = other.tracer_;
    context_ = other.context_;
    span_ = std::move(other.span_);
  }
  return *this;
}

void ActiveSpan::setError(std::string_view message) {
  if (!span_) return;
  span_->status = SpanStatus::Error;
  span_->statusMessage.assign(message);
}

void ActiveSpan::setOk() {
  if (!span_) return;
  span_->status = SpanStatus::Ok;
  span_->statusMessage.clear();  // the spec: a message only with an error
}

void ActiveSpan::end() {
  if (!span_) return;
  span_->endUnixNano = unixNanoNow();
  tracer_->submit(std::move(span_));
}

}  // namespace wsr::telemetry
