#pragma once
// The admin server's routes, apart from its lifecycle (AdminServer.cpp).

#include "admin/AdminBackend.h"
#include "admin/PublishRejections.h"
#include "admin/PublisherTokens.h"
#include "config/Config.h"
#include "hub/PublishSink.h"

namespace httplib {
class Server;
}

namespace wsr::admin {

// What the handlers use; everything it points to outlives the server.
struct AdminContext {
  const config::AdminConfig* config = nullptr;
  hub::PublishSink* sink = nullptr;
  AdminBackend* backend = nullptr;
  const PublisherTokens* tokens = nullptr;  // null: no token file, POST routes refused
  PublishRejections* rejections = nullptr;  // null: not counted
};

// Installs every route, the JSON 404/405 answers and the JSON error bodies
// for the errors cpp-httplib answers on its own.
void installRoutes(httplib::Server& server, const AdminContext& context);

}  // namespace wsr::admin
