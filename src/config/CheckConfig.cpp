#include "config/CheckConfig.h"

#include <iostream>
#include <vector>

namespace wsr::config {

int checkConfigMain(const std::string& path, const Environment& env, std::ostream& out,
                    std::ostream& err) {
  Config config;
  std::vector<ConfigError> errors;
  if (loadConfigFile(path, env, config, errors)) {
    out << "config OK: " << path << "\n";
    return 0;
  }
  for (const auto& error : errors)
    err << error.message() << "\n";
  err << "config invalid: " << path << ": " << errors.size()
      << (errors.size() == 1 ? " error" : " errors") << "\n";
  return 1;
}

int checkConfigMain(const std::string& path) {
  return checkConfigMain(path, Environment::fromProcess(), std::cout, std::cerr);
}

}  // namespace wsr::config
