#include "hub/PublishSink.h"

namespace wsr::hub {

int httpStatusOf(PublishError error) {
  switch (error) {
    case PublishError::None:
      return 200;
    case PublishError::BadRequest:
      return 400;
    case PublishError::InvalidChannel:
      return 404;
    case PublishError::TooLarge:
      return 413;
    case PublishError::Overloaded:
      return 429;
    case PublishError::Unavailable:
    case PublishError::ChannelLimit:
      return 503;
  }
  return 500;
}

std::string_view errorCodeOf(PublishError error) {
  switch (error) {
    case PublishError::None:
      return "";
    case PublishError::BadRequest:
      return "BAD_REQUEST";
    case PublishError::InvalidChannel:
      return "INVALID_CHANNEL";
    case PublishError::TooLarge:
      return "TOO_LARGE";
    case PublishError::Unavailable:
      return "UNAVAILABLE";
    case PublishError::ChannelLimit:
      return "CHANNEL_LIMIT";
    case PublishError::Overloaded:
      return "OVERLOADED";
  }
  return "INTERNAL";
}

}  // namespace wsr::hub
