#pragma once
// The files the public port serves over plain HTTP beside its WebSocket
// endpoints: the browser client (/client.js, /client.d.ts), always, and the
// demo page (/, /demo.js, /demo.css) unless server.demo_page is false.
//
// Every answer is complete and closes the connection (the engine's plain
// request hook, ws::WebSocketHandler::onHttpRequest). Files carry their
// Content-Type, `Cache-Control: no-cache` (a browser revalidates each time,
// so a new router version is picked up at once) and a strong ETag (a hash of
// the content, computed once here); a matching If-None-Match answers 304
// without the body. The client may be imported by pages of any origin
// (Access-Control-Allow-Origin: *). Other paths answer 404 with the protocol's JSON error
// body; the WebSocket paths (/ws, /ws/...) are left to the engine's 400, as
// a plain request there is a broken upgrade.
//
// Immutable after construction: shared by every worker without locks.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/EmbeddedWebFiles.h"
#include "ws/Handshake.h"

namespace wsr::hub {

class StaticSite {
 public:
  // `files`: names relative to web/ with their bytes (which must outlive the
  // site); index.html is served at "/", every other file at "/<name>".
  // `demoPage` false leaves out everything but the client.
  StaticSite(std::span<const EmbeddedFile> files, bool demoPage);

  // The answer to a plain GET or HEAD, or std::nullopt for the WebSocket paths.
  std::optional<ws::HttpResponse> answer(const ws::HandshakeRequest& request) const;

  // The Content-Type for a file name, by its extension.
  static std::string_view contentTypeOf(std::string_view name);

 private:
  struct File {
    std::string path;  // "/", "/client.js"
    std::string_view bytes;
    std::string_view contentType;
    std::string etag;  // with its quotes: "\"1f3a...\""
    bool isPage = false;
  };

  const File* find(std::string_view path) const;

  std::vector<File> files_;
  bool demoPage_;
};

}  // namespace wsr::hub
