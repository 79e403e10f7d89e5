#pragma once
// One hiredis connection, owned (redisFree exactly once), set up the way
// every broker connection is: connect within the connect timeout, reads
// and writes bounded by the command timeout, AUTH with the password file's
// current content, SELECT the database, and one PING answered (a Redis
// stopped with SIGSTOP still completes TCP handshakes in the kernel: only
// an answer shows it serves). Blocking: it is used only on the broker's
// own threads, never on a worker.

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"

namespace wsr::broker {

struct ReplyDeleter {
  void operator()(redisReply* reply) const {
    if (reply != nullptr) freeReplyObject(reply);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  RedisConnection() = default;

  // Connects to `address` (host:port, closing any earlier connection);
  // false with `error` when it cannot. The password file is read now, so a
  // rotated Secret is used from the next connection on.
  bool connect(const config::RedisConfig& config, const std::string& address, std::string& error);
  void close() { context_.reset(); }
  bool connected() const { return context_ != nullptr; }
  redisContext* context() const { return context_.get(); }
  int fd() const { return context_ ? context_->fd : -1; }

  // One command, waiting for its answer; null (and the connection closed)
  // when the connection failed.
  Reply command(const std::vector<std::string>& args, std::string& error);
  // Pipelining: queue commands, then take their answers in order.
  void append(const std::vector<std::string>& args);
  bool flush(std::string& error);  // writes what is queued
  Reply next(std::string& error);  // the next answer; null on failure
  // Answers already read off the socket (no system call); null when none.
  Reply buffered(std::string& error);

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const { redisFree(context); }
  };
  std::string failed(std::string_view what);

  std::unique_ptr<redisContext, ContextDeleter> context_;
};

}  // namespace wsr::broker
