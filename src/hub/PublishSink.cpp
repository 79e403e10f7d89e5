#include "hub/PublishSink.h"

#include "hub/ChannelName.h"

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

std::optional<PublishResult> refuseInvalidChannel(const Publication& publication) {
  if (publication.channelChecked || isValidChannelName(publication.channel)) return std::nullopt;
  std::string text = "channel '";
  // Bounded: an invalid name may be as long as the request allowed.
  text.append(publication.channel, 0, kMaxChannelNameBytes);
  text += "' is not a valid channel name (1 to 128 bytes of A-Z a-z 0-9 _ . : @ -)";
  return PublishResult{PublishError::InvalidChannel, std::move(text), 0};
}

}  // namespace wsr::hub
