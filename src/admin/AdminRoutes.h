#pragma once
// The admin server's routes, apart from its lifecycle (AdminServer.cpp).

#include "admin/AdminBackend.h"
#include "admin/HttpRequestHead.h"
#include "admin/PublishRejections.h"
#include "admin/PublishRequest.h"
#include "admin/PublisherTokens.h"
#include "config/Config.h"
#include "hub/PublishSink.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib
namespace wsr::telemetry {
class Tracer;
}

namespace wsr::admin {

// What the handlers use; everything it points to outlives the server.
struct AdminContext {
  const config::AdminConfig* config = nullptr;
  hub::PublishSink* sink = nullptr;
  AdminBackend* backend = nullptr;
  const PublisherTokens* tokens = nullptr;  // null: no token file, POST routes refused
  PublishRejections* rejections = nullptr;  // null: not counted
  telemetry::Tracer* tracer = nullptr;      // null: publish requests are not traced
};

// Answers 401 into `res` and returns false unless the request carries a
// listed publisher token. Messages never quote the token.
bool authorizePublisher(const AdminContext& context, const httplib::Request& req,
                        httplib::Response& res);

// Every route, with the JSON 404/405 answers. Called from the admin handler
// threads with a request read in full (AdminConnection): the routes never
// touch a socket, so they would run as well on another front.
class AdminRoutes {
 public:
  explicit AdminRoutes(const AdminContext& context) : context_(context) {}

  // Answers `req`, whose body is complete (Read), or was read and dropped
  // (TooLarge: over admin.max_publish_bytes; Unwanted: wantsBody() said no).
  // Never throws: an exception answers 500.
  // `publisherVerified`: wantsBody() said yes to this request's head
  // moments ago, so its token is not checked again.
  // `parser`: the calling thread's own (the admin loop's); null: one is
  // made for the call.
  void handle(const httplib::Request& req, BodyState body, httplib::Response& res,
              bool publisherVerified = false, PublishParser* parser = nullptr) const;

  // The publish routes, when the sink never waits: answered on the admin
  // loop's thread as they are read (AdminFront).
  bool runsInline(const httplib::Request& head) const;
  // /healthz and /readyz, which the admin server runs on threads of their own.
  static bool isProbe(const httplib::Request& req);
  const AdminContext& context() const { return context_; }
  // Of a request's head: a POST route with a valid publisher token, the only
  // requests whose bodies are used.
  // `memo` is kept by the connection between its requests: the token it
  // last presented, once verified, is not hashed again until the token
  // file changes.
  bool wantsBody(const httplib::Request& head, std::string& memo) const;

 private:
  void route(const httplib::Request& req, BodyState body, httplib::Response& res,
             bool publisherVerified, PublishParser* parser) const;

  AdminContext context_;
};

}  // namespace wsr::admin
