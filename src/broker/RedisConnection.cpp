#include "broker/RedisConnection.h"

#include <fstream>
#include <sstream>

namespace wsr::broker {
namespace {

timeval toTimeval(uint32_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

bool readPassword(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read broker.redis.password_file " + path;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  return true;
}

}  // namespace

std::string RedisConnection::failed(std::string_view what) {
  std::string error(what);
  if (context_ && context_->err != 0) {
    error += ": ";
    error += context_->errstr;
  }
  context_.reset();
  return error;
}

bool RedisConnection::connect(const config::RedisConfig& config, const std::string& address,
                              std::string& error) {
  context_.reset();
  const size_t colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  const int port = std::stoi(address.substr(colon + 1));
  const timeval connectTimeout = toTimeval(config.connectTimeoutMs);
  context_.reset(redisConnectWithTimeout(host.c_str(), port, connectTimeout));
  if (!context_ || context_->err != 0) {
    error = failed("cannot connect to Redis at " + address);
    return false;
  }
  const timeval commandTimeout = toTimeval(config.commandTimeoutMs);
  if (redisSetTimeout(context_.get(), commandTimeout) != REDIS_OK) {
    error = failed("cannot set the Redis command timeout");
    return false;
  }
  redisEnableKeepAlive(context_.get());
  if (!config.passwordFile.empty()) {
    std::string password;
    if (!readPassword(config.passwordFile, password, error)) {
      context_.reset();
      return false;
    }
    Reply reply = config.username.empty() ? command({"AUTH", password}, error)
                                          : command({"AUTH", config.username, password}, error);
    if (!reply) return false;
    if (reply->type == REDIS_REPLY_ERROR) {
      error = "Redis refused AUTH: " + std::string(reply->str, reply->len);
      context_.reset();
      return false;
    }
  }
  if (config.database != 0) {
    Reply reply = command({"SELECT", std::to_string(config.database)}, error);
    if (!reply) return false;
    if (reply->type == REDIS_REPLY_ERROR) {
      error = "Redis refused SELECT: " + std::string(reply->str, reply->len);
      context_.reset();
      return false;
    }
  }
  Reply pong = command({"PING"}, error);
  if (!pong) {
    error = "Redis at " + address + " did not answer PING: " + error;
    return false;
  }
  if (pong->type == REDIS_REPLY_ERROR) {
    error = "Redis at " + address + " refused PING: " + std::string(pong->str, pong->len);
    context_.reset();
    return false;
  }
  return true;
}

void RedisConnection::append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(),
                         lengths.data());
}

bool RedisConnection::flush(std::string& error) {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) {
      error = failed("Redis write failed");
      return false;
    }
  }
  return true;
}

Reply RedisConnection::next(std::string& error) {
  void* reply = nullptr;
  if (redisGetReply(context_.get(), &reply) != REDIS_OK || reply == nullptr) {
    error = failed("Redis read failed");
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(reply));
}

Reply RedisConnection::buffered(std::string& error) {
  void* reply = nullptr;
  if (redisGetReplyFromReader(context_.get(), &reply) != REDIS_OK) {
    error = failed("Redis sent what is not RESP");
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(reply));
}

Reply RedisConnection::command(const std::vector<std::string>& args, std::string& error) {
  if (!context_) {
    error = "not connected to Redis";
    return nullptr;
  }
  append(args);
  if (!flush(error)) return nullptr;
  return next(error);
}

}  // namespace wsr::broker
