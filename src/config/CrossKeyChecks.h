#pragma once
// The checks that need two keys at once (admin.port against server.port,
// auth.mode against the files it needs), after every key was read.

#include <string>
#include <vector>

#include "config/Config.h"

namespace wsr::config {

// Adds an error per violation, placed in `source`.
void checkAcrossKeys(const Config& config, const std::string& source,
                     std::vector<ConfigError>& errors);

}  // namespace wsr::config
