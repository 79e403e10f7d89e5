#pragma once
// What GET /metrics answers: a prometheus-cpp Registry (metrics set once,
// such as build info) plus collectors that read the router's counters when
// scraped, serialized in the Prometheus text format 0.0.4.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

namespace wsr::telemetry {

class MetricsExposition {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  MetricsExposition();
  MetricsExposition(const MetricsExposition&) = delete;
  MetricsExposition& operator=(const MetricsExposition&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  // Before serving: `collectable` is asked at every scrape, after the
  // registry and the collectors added before it.
  void add(std::shared_ptr<const prometheus::Collectable> collectable);

  // Any thread, any number at once (each collector must allow that).
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_;
};

}  // namespace wsr::telemetry
