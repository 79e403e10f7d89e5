#include "config/KeyPaths.h"

#include "config/Config.h"
#include "config/Schema.h"

namespace wsr::config {
namespace {

using schema::describe;

// Walks the schema and collects each key's path.
class KeyCollector {
 public:
  std::vector<Pattern> patterns;

  template <class T, class... Rule>
  void field(std::string_view key, T&, Rule&&...) {
    prefix_.push_back(Segment{std::string(key), {}});
    patterns.push_back(prefix_);
    prefix_.pop_back();
  }
  template <class T>
  void section(std::string_view key, T& out) {
    prefix_.push_back(Segment{std::string(key), {}});
    describe(*this, out);
    prefix_.pop_back();
  }
  template <class T, class Map>
  void namedMap(std::string_view key, Map&, const schema::NamedMap<T>& spec) {
    Segment wildcard;
    wildcard.validName = spec.name.valid;
    wildcard.names.emplace_back(spec.fallback);
    for (const auto& preset : spec.presets) {
      wildcard.names.emplace_back(preset.name);
    }
    prefix_.push_back(Segment{std::string(key), {}});
    prefix_.push_back(std::move(wildcard));
    T entry = spec.base;
    describe(*this, entry);
    prefix_.pop_back();
    prefix_.pop_back();
  }

 private:
  Pattern prefix_;
};

}  // namespace

std::vector<Pattern> schemaPatterns() {
  Config config;
  KeyCollector collector;
  describe(collector, config);
  return collector.patterns;
}

std::string joinPath(const Path& path) {
  std::string out;
  for (const auto& segment : path) {
    if (!out.empty()) out += '.';
    out += segment;
  }
  return out;
}

}  // namespace wsr::config
