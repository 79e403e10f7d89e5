#include "hub/SharedCounters.h"

namespace wsr::hub {

std::string_view sharedLimitName(SharedLimit limit) {
  switch (limit) {
    case SharedLimit::ConnectionAttempts:
      return "connection_attempts";
    case SharedLimit::Messages:
      return "messages";
  }
  return "messages";
}

}  // namespace wsr::hub
