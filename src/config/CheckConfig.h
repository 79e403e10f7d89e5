#pragma once
// `wsrouter --check-config FILE`: validates a config file (with the process's
// WSROUTER_* overrides, as the router itself would see them) and says so.

#include <iosfwd>
#include <string>

#include "config/Config.h"

namespace wsr::config {

// Prints "config OK: <path>" on `out`, or every error and a count on `err`.
// Returns the process exit status: 0 valid, 1 not.
int checkConfigMain(const std::string& path, const Environment& env, std::ostream& out,
                    std::ostream& err);

// The same with the real environment, std::cout and std::cerr.
int checkConfigMain(const std::string& path);

}  // namespace wsr::config
