#pragma once
// limits.allowed_origins: which web pages may open a connection from a
// browser (a page's scripts can reach any host; the Origin header, which
// pages cannot forge, tells whose page it is). Entries:
//   https://app.example.com        that origin (scheme and host
//   https://app.example.com:8443   case-insensitive; :443 on https and :80
//                                  on http are the same as no port)
//   https://*.example.com          any subdomain, at any depth; not
//                                  example.com itself
// An empty list allows every origin. A request without Origin is not from a
// browser page and is not checked; `Origin: null` (sandboxed frames, files)
// is refused whenever the list is not empty.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::auth {

class OriginPolicy {
 public:
  static std::optional<OriginPolicy> parse(const std::vector<std::string>& entries,
                                           std::string& error);

  bool allows(std::string_view origin) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string scheme;
    std::string host;  // without the "*." of a wildcard
    std::string port;  // empty: the scheme's default
    bool wildcard = false;
  };
  // Splits "scheme://host[:port]" (lower-cased, default port dropped).
  static bool split(std::string_view origin, Entry& out);

  std::vector<Entry> entries_;
};

}  // namespace wsr::auth
