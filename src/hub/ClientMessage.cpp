#include "hub/ClientMessage.h"

#include <simdjson.h>

namespace wsr::hub {
namespace {

namespace dom = simdjson::dom;

constexpr const char* kBadRequest = "BAD_REQUEST";
constexpr const char* kUnknownOp = "UNKNOWN_OP";
// An unknown op is echoed in the error; a client must not be able to make
// the answer (or a log line quoting it) arbitrarily long.
constexpr size_t kMaxEchoedOpBytes = 64;
// Client messages are small; buffers for bigger ones are not kept.
constexpr size_t kRetainedParserBytes = size_t{64} * 1024;

// ---- Parsing ---------------------------------------------------------------

// The fields this parser reads; anything else in the object is ignored.
struct Fields {
  std::optional<dom::element> op, id, channels, since, token, session, resume;
};

// A field this protocol reads, given twice, is refused, as the publish API
// refuses it: JSON readers differ on which of the two counts, and the router
// must not guess what the client meant. Fields it does not read are ignored,
// repeated or not. Returns the first repeated field's name, or empty.
std::string_view collectFields(dom::object object, Fields& fields) {
  std::string_view repeated;
  for (dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    std::optional<dom::element>* slot = nullptr;
    if (key == "op") {
      slot = &fields.op;
    } else if (key == "id") {
      slot = &fields.id;
    } else if (key == "channels") {
      slot = &fields.channels;
    } else if (key == "since") {
      slot = &fields.since;
    } else if (key == "token") {
      slot = &fields.token;
    } else if (key == "session") {
      slot = &fields.session;
    } else if (key == "resume") {
      slot = &fields.resume;
    }
    if (slot == nullptr) continue;
    if (slot->has_value() && repeated.empty()) repeated = key;
    *slot = field.value;
  }
  return repeated;
}

// Fills error; always returns false, so failures read `return fail(...)`.
bool fail(ClientMessageError& error, const char* code, std::string message) {
  error.code = code;
  error.message = std::move(message);
  return false;
}

std::string fieldMessage(std::string_view field, std::string_view rule) {
  std::string text = "field '";
  text += field;
  text += "' ";
  text += rule;
  return text;
}

bool missing(ClientMessageError& error, std::string_view field) {
  return fail(error, kBadRequest, fieldMessage(field, "is required"));
}

// The op as it can appear in an answer: at most kMaxEchoedOpBytes, cut on a
// code point boundary (simdjson checked it is valid UTF-8), control
// characters replaced so a log line quoting it stays one line.
std::string echoableOp(std::string_view op) {
  size_t end = op.size();
  if (end > kMaxEchoedOpBytes) {
    end = kMaxEchoedOpBytes;
    while (end > 0 && (static_cast<uint8_t>(op[end]) & 0xC0) == 0x80) {
      --end;
    }
  }
  std::string text(op.substr(0, end));
  for (char& c : text) {
    if (static_cast<uint8_t>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (end < op.size()) text += "...";
  return text;
}

bool readOp(std::optional<dom::element> field, ClientOp& op, ClientMessageError& error) {
  if (!field) return missing(error, "op");
  std::string_view name;
  if (field->get_string().get(name) != simdjson::SUCCESS) {
    return fail(error, kBadRequest, fieldMessage("op", "must be a string"));
  }
  if (name == "subscribe") {
    op = ClientOp::Subscribe;
  } else if (name == "unsubscribe") {
    op = ClientOp::Unsubscribe;
  } else if (name == "ping") {
    op = ClientOp::Ping;
  } else if (name == "auth") {
    op = ClientOp::Auth;
  } else if (name == "resume") {
    op = ClientOp::Resume;
  } else {
    return fail(error, kUnknownOp,
                "unknown op '" + echoableOp(name) +
                    "' (expected subscribe, unsubscribe, ping, auth or resume)");
  }
  return true;
}

std::string tooManyChannels(size_t maxChannels) {
  return "at most " + std::to_string(maxChannels) + " channels per request";
}

bool readChannels(std::optional<dom::element> field, size_t maxChannels,
                  std::vector<std::string>& channels, ClientMessageError& error) {
  if (!field) return missing(error, "channels");
  constexpr std::string_view kRule = "must be a non-empty array of strings";
  dom::array array;
  if (field->get_array().get(array) != simdjson::SUCCESS) {
    return fail(error, kBadRequest, fieldMessage("channels", kRule));
  }
  const size_t count = array.size();
  if (count == 0) return fail(error, kBadRequest, fieldMessage("channels", kRule));
  // Before copying anything: the limit bounds the work a request causes.
  if (count > maxChannels) return fail(error, kBadRequest, tooManyChannels(maxChannels));
  channels.reserve(count);
  for (dom::element entry : array) {
    std::string_view name;
    if (entry.get_string().get(name) != simdjson::SUCCESS) {
      return fail(error, kBadRequest, fieldMessage("channels", kRule));
    }
    channels.emplace_back(name);
  }
  return true;
}

// Optional; the hub looks each requested channel up in it, so it is bounded
// like "channels".
bool readSince(std::optional<dom::element> field, size_t maxChannels,
               std::vector<std::pair<std::string, uint64_t>>& since, ClientMessageError& error) {
  if (!field) return true;
  dom::object object;
  if (field->get_object().get(object) != simdjson::SUCCESS) {
    return fail(error, kBadRequest,
                fieldMessage("since", "must be an object of channel to non-negative integer"));
  }
  if (object.size() > maxChannels) return fail(error, kBadRequest, tooManyChannels(maxChannels));
  since.reserve(object.size());
  for (dom::key_value_pair entry : object) {
    uint64_t seq = 0;
    // get_uint64 refuses negatives, fractions and exponents (doubles).
    if (entry.value.get_uint64().get(seq) != simdjson::SUCCESS) {
      return fail(error, kBadRequest,
                  fieldMessage("since", "must map each channel to a non-negative integer"));
    }
    for (const auto& [channel, earlier] : since) {
      if (channel == entry.key) {
        return fail(error, kBadRequest,
                    fieldMessage("since", "names channel '" +
                                              std::string(entry.key.substr(0, kMaxEchoedOpBytes)) +
                                              "' twice"));
      }
    }
    since.emplace_back(std::string(entry.key), seq);
  }
  return true;
}

bool readString(std::optional<dom::element> field, std::string_view name, bool allowEmpty,
                std::string& value, ClientMessageError& error) {
  if (!field) return missing(error, name);
  std::string_view text;
  if (field->get_string().get(text) != simdjson::SUCCESS || (!allowEmpty && text.empty())) {
    return fail(error, kBadRequest,
                fieldMessage(name, allowEmpty ? "must be a string" : "must be a non-empty string"));
  }
  value.assign(text);
  return true;
}

// The id first, so every later error can echo it.
bool readId(std::optional<dom::element> field, std::optional<int64_t>& id,
            ClientMessageError& error) {
  if (!field) return true;
  int64_t value = 0;
  if (field->get_int64().get(value) != simdjson::SUCCESS) {
    return fail(error, kBadRequest, fieldMessage("id", "must be an integer"));
  }
  id = value;
  error.id = value;
  return true;
}

void reset(ClientMessage& out, ClientMessageError& error) {
  out.op = ClientOp::Ping;
  out.id.reset();
  out.channels.clear();
  out.since.clear();
  out.token.clear();
  out.session.clear();
  out.resume.clear();
  error.code.clear();
  error.message.clear();
  error.id.reset();
}

bool readMessage(dom::element root, size_t maxChannels, ClientMessage& out,
                 ClientMessageError& error) {
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return fail(error, kBadRequest, "message must be a JSON object");
  }
  Fields fields;
  const std::string_view repeated = collectFields(object, fields);
  // A repeated id is not echoed: which one would be the client's?
  if (repeated != "id" && !readId(fields.id, out.id, error)) return false;
  if (!repeated.empty()) return fail(error, kBadRequest, fieldMessage(repeated, "appears twice"));
  if (!readOp(fields.op, out.op, error)) return false;
  switch (out.op) {
    case ClientOp::Subscribe:
      return readChannels(fields.channels, maxChannels, out.channels, error) &&
             readSince(fields.since, maxChannels, out.since, error);
    case ClientOp::Unsubscribe:
      return readChannels(fields.channels, maxChannels, out.channels, error);
    case ClientOp::Ping:
      return true;
    case ClientOp::Auth:
      return readString(fields.token, "token", false, out.token, error);
    case ClientOp::Resume:
      // `since` (an extension): what the client really received, which the
      // router cannot know of a connection the network cut.
      return readString(fields.session, "session", true, out.session, error) &&
             readString(fields.resume, "resume", true, out.resume, error) &&
             readSince(fields.since, maxChannels, out.since, error);
  }
  return true;
}

}  // namespace

// ---- ClientMessageParser ---------------------------------------------------

struct ClientMessageParser::Impl {
  // Keeps its tape and a padded copy of the input between calls: the DOM
  // parser copies `text` into that buffer, so callers need no padding.
  dom::parser parser;
};

ClientMessageParser::ClientMessageParser() : impl_(std::make_unique<Impl>()) {}
ClientMessageParser::~ClientMessageParser() = default;
ClientMessageParser::ClientMessageParser(ClientMessageParser&&) noexcept = default;
ClientMessageParser& ClientMessageParser::operator=(ClientMessageParser&&) noexcept = default;

bool ClientMessageParser::parse(std::string_view text, size_t maxChannels, ClientMessage& out,
                                ClientMessageError& error) {
  reset(out, error);
  // The DOM parser validates the whole document (and its UTF-8) and refuses
  // nesting deeper than its limit (1024) with an error, not a crash.
  if (!impl_) impl_ = std::make_unique<Impl>();  // a moved-from parser stays usable
  dom::element root;
  bool ok = false;
  if (impl_->parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
    ok = fail(error, kBadRequest, "message is not valid JSON");
  } else {
    ok = readMessage(root, maxChannels, out, error);
  }
  // The parser keeps buffers sized for the largest input (about 10 bytes
  // per input byte); one odd big message should not pin that per worker.
  if (text.size() > kRetainedParserBytes) impl_->parser = dom::parser{};
  return ok;
}

bool parseClientMessage(std::string_view text, size_t maxChannels, ClientMessage& out,
                        ClientMessageError& error) {
  ClientMessageParser parser;
  return parser.parse(text, maxChannels, out, error);
}

}  // namespace wsr::hub
