#include "hub/SavedSession.h"

#include <charconv>

#include "hub/ChannelName.h"

namespace wsr::hub {

std::string encodeSavedSession(const SavedSession& session) {
  std::string out = std::to_string(session.subject.size());
  out += '\n';
  out += session.subject;
  for (const SavedSubscription& subscription : session.subscriptions) {
    out += subscription.channel;
    out += ' ';
    out += subscription.lastSeq ? std::to_string(*subscription.lastSeq) : "-";
    out += '\n';
  }
  return out;
}

std::optional<SavedSession> decodeSavedSession(std::string_view bytes) {
  SavedSession session;
  const size_t newline = bytes.find('\n');
  if (newline == std::string_view::npos || newline == 0) return std::nullopt;
  size_t subjectSize = 0;
  const char* end = bytes.data() + newline;
  auto [at, ec] = std::from_chars(bytes.data(), end, subjectSize);
  if (ec != std::errc() || at != end || subjectSize > bytes.size() - newline - 1) {
    return std::nullopt;
  }
  session.subject = std::string(bytes.substr(newline + 1, subjectSize));
  std::string_view rest = bytes.substr(newline + 1 + subjectSize);
  while (!rest.empty()) {
    const size_t lineEnd = rest.find('\n');
    if (lineEnd == std::string_view::npos) return std::nullopt;
    const std::string_view line = rest.substr(0, lineEnd);
    rest.remove_prefix(lineEnd + 1);
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    SavedSubscription& subscription = session.subscriptions.emplace_back();
    subscription.channel = std::string(line.substr(0, space));
    if (!isValidChannelName(subscription.channel)) return std::nullopt;
    const std::string_view seq = line.substr(space + 1);
    if (seq == "-") continue;
    uint64_t value = 0;
    auto [seqEnd, seqEc] = std::from_chars(seq.data(), seq.data() + seq.size(), value);
    if (seqEc != std::errc() || seqEnd != seq.data() + seq.size() || seq.empty()) {
      return std::nullopt;
    }
    subscription.lastSeq = value;
  }
  return session;
}

}  // namespace wsr::hub
