#include "hub/Session.h"

#include <cstdio>

namespace wsr::hub {
namespace {

void appendHex(std::string& out, uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  out.append(text, 16);
}

}  // namespace

std::string sessionText(const Session& session) {
  std::string out = "s-";
  appendHex(out, session.sessionName);
  return out;
}

std::string resumeTokenText(const Session& session) {
  std::string out = "r-";
  appendHex(out, session.resumeToken[0]);
  appendHex(out, session.resumeToken[1]);
  return out;
}

}  // namespace wsr::hub
