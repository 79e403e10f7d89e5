#pragma once
// The files of web/ that the router serves on its public port (the demo page
// and the browser client), embedded in the binary at build time by
// cmake/EmbedFiles.cmake: the container image needs nothing beside it.

#include <span>
#include <string_view>

namespace wsr::hub {

struct EmbeddedFile {
  std::string_view name;   // relative to web/: "index.html", "client.js"
  std::string_view bytes;  // the file's content, static for the process's life
};

// Every embedded file, in the order CMakeLists.txt lists them.
std::span<const EmbeddedFile> embeddedWebFiles();

}  // namespace wsr::hub
