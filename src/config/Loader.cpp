// Loading: YAML text -> Config, with WSROUTER_* environment overrides.
//
// One pass over the schema (Schema.h) with a Loader visitor per YAML map. For
// each key the visitor takes the environment override if there is one, else
// the YAML value, else leaves the default; so a value from the environment
// goes through exactly the checks a YAML value does. Errors are collected, not
// thrown: the user sees every mistake of a file at once.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/Config.h"
#include "config/Schema.h"

namespace wsr::config {
namespace {

using schema::describe;
using Kind = ConfigError::Kind;
using Path = std::vector<std::string>;

std::string joinPath(const Path& path) {
  std::string out;
  for (const auto& segment : path) {
    if (!out.empty()) out += '.';
    out += segment;
  }
  return out;
}

Path childPath(const Path& path, std::string_view key) {
  Path out = path;
  out.emplace_back(key);
  return out;
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "(did you mean port?)" when one candidate is close to what was typed.
std::string suggestion(std::string_view typed, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t bestDistance = SIZE_MAX;
  for (const auto& candidate : candidates) {
    // Close enough: a typo or two, or the key without its unit suffix (interval).
    const size_t distance = editDistance(typed, candidate);
    const bool close = distance <= std::max<size_t>(2, candidate.size() / 3) ||
                       (typed.size() >= 4 && candidate.starts_with(typed));
    if (close && distance < bestDistance) {
      bestDistance = distance;
      best = &candidate;
    }
  }
  return best ? "(did you mean " + *best + "?)" : "";
}

// How an error shows a value: scalars as written, anything else in flow style.
std::string display(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter emitter;
  emitter.SetMapFormat(YAML::Flow);
  emitter.SetSeqFormat(YAML::Flow);
  emitter << node;
  std::string text = emitter.c_str();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Where a value came from: "file:line:column" (1-based), or a variable.
struct Where {
  std::string text;
  int line = 0;
  int column = 0;
};

Where locate(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) return Where{source};
  return Where{source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1),
               mark.line + 1, mark.column + 1};
}

void place(ConfigError& error, Where where) {
  error.where = std::move(where.text);
  error.line = where.line;
  error.column = where.column;
}

// A value set by an environment variable, addressed by its resolved key path.
struct Override {
  Path path;
  std::string variable;
  std::string value;
};

// What every visitor of one load shares.
struct Context {
  std::string source;                         // the file's name in messages
  std::map<std::string, Override> overrides;  // by joinPath(path)
  std::vector<ConfigError>& errors;
};

// Collects the schema's key paths; a namedMap contributes a wildcard segment.
struct Segment {
  std::string name;                               // empty for a wildcard
  std::vector<std::string> names;                 // wildcard: the names the schema itself knows
  bool (*validName)(std::string_view) = nullptr;  // wildcard: which names may exist
};
using Pattern = std::vector<Segment>;

class KeyCollector {
 public:
  std::vector<Pattern> patterns;

  template <class T, class... Rule>
  void field(std::string_view key, T&, Rule&&...) {
    prefix_.push_back(Segment{std::string(key), {}});
    patterns.push_back(prefix_);
    prefix_.pop_back();
  }
  template <class T>
  void section(std::string_view key, T& out) {
    prefix_.push_back(Segment{std::string(key), {}});
    describe(*this, out);
    prefix_.pop_back();
  }
  template <class T, class Map>
  void namedMap(std::string_view key, Map&, const schema::NamedMap<T>& spec) {
    Segment wildcard;
    wildcard.validName = spec.name.valid;
    wildcard.names.emplace_back(spec.fallback);
    for (const auto& preset : spec.presets) {
      wildcard.names.emplace_back(preset.name);
    }
    prefix_.push_back(Segment{std::string(key), {}});
    prefix_.push_back(std::move(wildcard));
    T entry = spec.base;
    describe(*this, entry);
    prefix_.pop_back();
    prefix_.pop_back();
  }

 private:
  Pattern prefix_;
};

std::vector<Pattern> schemaPatterns() {
  Config config;
  KeyCollector collector;
  describe(collector, config);
  return collector.patterns;
}

// The value of `key` in a YAML map, or an undefined node.
YAML::Node mapChild(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// ----------------------------------------------------------------------------
// Environment variables -> key paths.
//
// WSROUTER_ + the path's segments in upper case joined by '_'. Keys contain
// '_' themselves, so a name is resolved by matching it against the schema's
// paths token by token, not by splitting it. A namespace segment matches the
// env form of a configured name (upper case, other characters as '_'), or else
// names a new namespace in lower case.

std::string envForm(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out += (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
  }
  return out;
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool matchPattern(const Pattern& pattern, size_t segment, std::string_view rest,
                  const YAML::Node& yaml, Path& out) {
  if (segment == pattern.size()) return rest.empty();
  const Segment& seg = pattern[segment];
  const bool last = segment + 1 == pattern.size();
  if (!seg.name.empty()) {
    const std::string token = envForm(seg.name);
    if (!rest.starts_with(token)) return false;
    std::string_view after = rest.substr(token.size());
    if (!last) {
      if (!after.starts_with('_')) return false;
      after.remove_prefix(1);
    }
    out.push_back(seg.name);
    if (matchPattern(pattern, segment + 1, after, mapChild(yaml, seg.name), out)) return true;
    out.pop_back();
    return false;
  }
  // Wildcard: try each '_' boundary, shortest name first.
  std::vector<std::string> known = seg.names;
  if (yaml.IsMap()) {
    for (const auto& entry : yaml) {
      if (entry.first.IsScalar()) known.push_back(entry.first.Scalar());
    }
  }
  for (size_t end = rest.find('_'); end != std::string_view::npos; end = rest.find('_', end + 1)) {
    const std::string_view envName = rest.substr(0, end);
    std::string name = lowerCase(envName);
    for (const auto& candidate : known) {
      if (envForm(candidate) == envName) name = candidate;
    }
    if (!seg.validName(name)) continue;
    out.push_back(name);
    if (matchPattern(pattern, segment + 1, rest.substr(end + 1), mapChild(yaml, name), out)) {
      return true;
    }
    out.pop_back();
  }
  return false;
}

// Kubernetes gives every pod <SERVICE>_SERVICE_HOST, <SERVICE>_PORT=tcp://...
// and friends for each Service in its namespace; a Service named wsrouter or
// wsrouter-admin would otherwise read as (bad) overrides and stop the start.
bool isKubernetesServiceLink(std::string_view name, std::string_view value) {
  if (name.find("_SERVICE_HOST") != std::string_view::npos) return true;
  if (name.find("_SERVICE_PORT") != std::string_view::npos) return true;
  for (std::string_view scheme : {"tcp://", "udp://", "sctp://"}) {
    if (value.starts_with(scheme)) return true;
  }
  for (size_t at = name.find("_PORT_"); at != std::string_view::npos;
       at = name.find("_PORT_", at + 1)) {
    std::string_view after = name.substr(at + 6);
    const size_t digits = after.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos) continue;
    after.remove_prefix(digits);
    if (after.starts_with("_TCP") || after.starts_with("_UDP") || after.starts_with("_SCTP")) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> exampleVariables(const std::vector<Pattern>& patterns) {
  std::vector<std::string> names;
  for (const auto& pattern : patterns) {
    std::string name = "WSROUTER";
    for (const auto& segment : pattern) {
      name += '_';  // appended apart: `"_" + string` trips GCC 12's -Wrestrict
      name += envForm(segment.name.empty() ? kDefaultNamespace : segment.name);
    }
    names.push_back(std::move(name));
  }
  return names;
}

void resolveEnvironment(const Environment& env, const YAML::Node& root, Context& context) {
  static constexpr std::string_view kPrefix = "WSROUTER_";
  const std::vector<Pattern> patterns = schemaPatterns();
  for (const auto& [name, value] : env.vars()) {
    if (!name.starts_with(kPrefix) || name == kConfigFileVariable) continue;
    if (isKubernetesServiceLink(name, value)) continue;
    const std::string_view rest = std::string_view(name).substr(kPrefix.size());
    Path path;
    const bool found = std::any_of(patterns.begin(), patterns.end(), [&](const Pattern& pattern) {
      path.clear();
      return matchPattern(pattern, 0, rest, root, path);
    });
    if (!found) {
      ConfigError error;
      error.kind = Kind::UnknownVariable;
      error.where = "environment variable " + name;
      error.expected = "WSROUTER_<PATH> naming a key, e.g. WSROUTER_SERVER_PORT for server.port";
      error.detail = suggestion(name, exampleVariables(patterns));
      context.errors.push_back(std::move(error));
      continue;
    }
    context.overrides[joinPath(path)] = Override{path, name, value};
  }
}

// ----------------------------------------------------------------------------
// The loading visitor: one per YAML map (section or namespace entry).

class Loader {
 public:
  Loader(Context& context, const YAML::Node& map, Path path)
      : context_(context), path_(std::move(path)) {
    if (!map.IsMap()) return;  // absent or null: every key keeps its default
    for (const auto& item : map) {
      if (!item.first.IsScalar()) {
        error(Kind::UnknownKey, joinPath(path_), display(item.first), at(item.first), "a key name");
        continue;
      }
      const std::string key = item.first.Scalar();
      const bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                         [&](const Entry& entry) { return entry.key == key; });
      if (duplicate) {
        error(Kind::DuplicateKey, joinPath(childPath(path_, key)), key, at(item.first), "");
        continue;
      }
      entries_.push_back(Entry{key, item.first, item.second});
    }
  }

  template <std::integral T>
  void field(std::string_view key, T& out, schema::IntRange range) {
    const auto found = find(key, false);
    if (!found) return;
    const std::string expected =
        "an integer from " + std::to_string(range.min) + " to " + std::to_string(range.max);
    if (!found->node.IsScalar()) return fail(Kind::WrongType, key, *found, expected);
    std::string_view text = found->node.Scalar();
    if (text.starts_with('+')) text.remove_prefix(1);  // YAML allows a sign
    int64_t number = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
    const bool whole = status == std::errc() && end == text.data() + text.size();
    if (status == std::errc::result_out_of_range ||
        (whole && (number < range.min || number > range.max))) {
      return fail(Kind::OutOfRange, key, *found, expected);
    }
    if (!whole || text.empty()) return fail(Kind::WrongType, key, *found, expected);
    out = static_cast<T>(number);
  }

  void field(std::string_view key, bool& out) {
    const auto found = find(key, false);
    if (!found) return;
    // Only YAML 1.2's true/false: yaml-cpp would also take yes/no/on/off, and
    // a country code `no` silently becoming false is a known YAML trap.
    const std::string text = found->node.IsScalar() ? found->node.Scalar() : "";
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
    } else if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
    } else {
      fail(found->node.IsScalar() ? Kind::BadValue : Kind::WrongType, key, *found, "true or false");
    }
  }

  void field(std::string_view key, std::string& out, schema::StringRule rule) {
    const auto found = find(key, false);
    if (!found) return;
    if (found->node.IsNull()) {  // `key:` with nothing after it reads as empty
      if (!rule.valid("")) return fail(Kind::BadValue, key, *found, rule.expected);
      out.clear();
      return;
    }
    if (!found->node.IsScalar()) return fail(Kind::WrongType, key, *found, rule.expected);
    if (!rule.valid(found->node.Scalar())) return fail(Kind::BadValue, key, *found, rule.expected);
    out = found->node.Scalar();
  }

  template <class E>
  void field(std::string_view key, E& out, schema::Choices<E> choices) {
    const auto found = find(key, false);
    if (!found) return;
    std::vector<std::string> names;
    for (const auto& [name, value] : choices.options) {
      if (found->node.IsScalar() && found->node.Scalar() == name) {
        out = value;
        return;
      }
      names.emplace_back(name);
    }
    fail(found->node.IsScalar() ? Kind::BadValue : Kind::WrongType, key, *found,
         "one of " + joinWords(names));
  }

  void field(std::string_view key, schema::StringPairs& out, schema::PairsRule rule) {
    const auto found = find(key, true);
    if (!found) return;
    if (found->node.IsNull()) {
      out.clear();
      return;
    }
    if (!found->node.IsMap()) return fail(Kind::WrongType, key, *found, rule.expected);
    schema::StringPairs pairs;
    const Path path = childPath(path_, key);
    for (const auto& item : found->node) {
      const std::string name = display(item.first);
      const Where where = found->fromEnvironment ? found->where : at(item.first);
      if (!item.first.IsScalar() || !rule.key.valid(name)) {
        error(Kind::BadValue, joinPath(path), name, where, rule.key.expected);
      } else if (!item.second.IsScalar() || !rule.value.valid(item.second.Scalar())) {
        error(item.second.IsScalar() ? Kind::BadValue : Kind::WrongType,
              joinPath(childPath(path, name)), display(item.second), where, rule.value.expected);
      } else if (std::any_of(pairs.begin(), pairs.end(),
                             [&](auto& p) { return p.first == name; })) {
        error(Kind::DuplicateKey, joinPath(childPath(path, name)), name, where, "");
      } else {
        pairs.emplace_back(name, item.second.Scalar());
      }
    }
    out = std::move(pairs);
  }

  void field(std::string_view key, schema::StringList& out, schema::ListRule rule) {
    const auto found = find(key, true);
    if (!found) return;
    if (found->node.IsNull()) {
      out.clear();
      return;
    }
    if (!found->node.IsSequence()) return fail(Kind::WrongType, key, *found, rule.expected);
    schema::StringList list;
    const Path path = childPath(path_, key);
    size_t index = 0;
    for (const auto& item : found->node) {
      const Where where = found->fromEnvironment ? found->where : at(item);
      const std::string elementPath = joinPath(path) + "[" + std::to_string(index++) + "]";
      if (!item.IsScalar()) {
        error(Kind::WrongType, elementPath, display(item), where, rule.element.expected);
      } else if (!rule.element.valid(item.Scalar())) {
        error(Kind::BadValue, elementPath, item.Scalar(), where, rule.element.expected);
      } else {
        list.push_back(item.Scalar());
      }
    }
    out = std::move(list);
  }

  template <class T>
  void section(std::string_view key, T& out) {
    Loader child(context_, sectionNode(key, "a map of " + std::string(key) + " settings"),
                 childPath(path_, key));
    describe(child, out);
    child.finish();
  }

  template <class T, class Map>
  void namedMap(std::string_view key, Map& out, const schema::NamedMap<T>& spec) {
    const YAML::Node node = sectionNode(key, "a map from names to settings");
    const Path path = childPath(path_, key);

    // Every name: the presets, the YAML's, and those only the environment names.
    std::vector<std::string> names;
    auto add = [&names](const std::string& name) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    };
    for (const auto& preset : spec.presets) {
      add(std::string(preset.name));
    }
    Loader entries(context_, node, path);  // only to list (and check) the map's keys
    for (const auto& entry : entries.entries_) {
      if (spec.name.valid(entry.key)) {
        add(entry.key);
      } else {
        error(Kind::BadValue, joinPath(childPath(path, entry.key)), entry.key, at(entry.keyNode),
              spec.name.expected);
      }
    }
    for (const auto& [unused, override] : context_.overrides) {
      if (override.path.size() > path.size() + 1 &&
          std::equal(path.begin(), path.end(), override.path.begin())) {
        add(override.path[path.size()]);
      }
    }

    Map result;
    T fallback = spec.base;
    loadEntry(entries, spec.fallback, fallback);
    for (const auto& name : names) {
      if (name == spec.fallback) continue;
      T entry = fallback;
      for (const auto& preset : spec.presets) {
        if (preset.name == name) preset.apply(entry);
      }
      loadEntry(entries, name, entry);
      result.emplace(name, entry);
    }
    result.emplace(spec.fallback, fallback);
    out = std::move(result);
  }

  // Reports the keys of this map that the schema did not visit.
  void finish() {
    for (const auto& entry : entries_) {
      if (std::find(known_.begin(), known_.end(), entry.key) != known_.end()) continue;
      ConfigError unknown;
      unknown.kind = Kind::UnknownKey;
      unknown.path = joinPath(childPath(path_, entry.key));
      unknown.value = display(entry.value);
      place(unknown, at(entry.keyNode));
      unknown.expected = "one of " + joinWords(known_);
      unknown.detail = suggestion(entry.key, known_);
      context_.errors.push_back(std::move(unknown));
    }
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node keyNode;
    YAML::Node value;
  };
  struct Found {
    YAML::Node node;
    Where where;
    std::string raw;  // the text as given, for messages
    bool fromEnvironment = false;
  };

  const Entry* entry(std::string_view key) const {
    for (const auto& item : entries_) {
      if (item.key == key) return &item;
    }
    return nullptr;
  }

  // The value for `key`: the environment's, else the YAML's, else none.
  // `structured` values (maps) are parsed from the variable as YAML flow text.
  std::optional<Found> find(std::string_view key, bool structured) {
    known_.emplace_back(key);
    const Entry* yaml = entry(key);
    const std::string path = joinPath(childPath(path_, key));
    if (auto it = context_.overrides.find(path); it != context_.overrides.end()) {
      Found found{YAML::Node(it->second.value),
                  Where{"environment variable " + it->second.variable}, it->second.value, true};
      if (structured) {
        try {
          found.node = YAML::Load(it->second.value);
        } catch (const YAML::Exception& e) {
          error(Kind::WrongType, path, it->second.value, found.where,
                "YAML flow text, e.g. [10.0.0.0/8, ::1] or {AAPL: tech}");
          return std::nullopt;
        }
      }
      return found;
    }
    if (!yaml) return std::nullopt;
    return Found{yaml->value, at(yaml->value.IsNull() ? yaml->keyNode : yaml->value),
                 display(yaml->value), false};
  }

  // A section's map, or an undefined node (after an error) when it is not one.
  YAML::Node sectionNode(std::string_view key, const std::string& expected) {
    known_.emplace_back(key);
    const Entry* yaml = entry(key);
    if (!yaml) return YAML::Node(YAML::NodeType::Undefined);
    if (yaml->value.IsMap() || yaml->value.IsNull()) return yaml->value;
    error(Kind::WrongType, joinPath(childPath(path_, key)), display(yaml->value), at(yaml->value),
          expected);
    return YAML::Node(YAML::NodeType::Undefined);
  }

  template <class T>
  void loadEntry(const Loader& entries, std::string_view name, T& out) {
    YAML::Node node(YAML::NodeType::Undefined);
    if (const Entry* yaml = entries.entry(name)) {
      if (yaml->value.IsMap() || yaml->value.IsNull()) {
        node = yaml->value;
      } else {
        error(Kind::WrongType, joinPath(childPath(entries.path_, name)), display(yaml->value),
              at(yaml->value), "a map of settings");
      }
    }
    Loader child(context_, node, childPath(entries.path_, name));
    describe(child, out);
    child.finish();
  }

  Where at(const YAML::Node& node) const { return at(node.Mark()); }
  Where at(const YAML::Mark& mark) const { return locate(context_.source, mark); }

  void fail(Kind kind, std::string_view key, const Found& found, std::string_view expected) {
    error(kind, joinPath(childPath(path_, key)), found.raw, found.where, expected);
  }

  void error(Kind kind, std::string path, std::string value, Where where,
             std::string_view expected) {
    ConfigError e;
    e.kind = kind;
    e.path = std::move(path);
    e.value = std::move(value);
    place(e, std::move(where));
    e.expected = expected;
    context_.errors.push_back(std::move(e));
  }

  Context& context_;
  Path path_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
};

// Checks that need two keys at once.
void checkAcrossKeys(const Config& config, Context& context) {
  auto fail = [&context](std::string path, std::string value, std::string expected) {
    ConfigError error;
    error.kind = Kind::BadValue;
    error.path = std::move(path);
    error.value = std::move(value);
    error.where = context.source;
    error.expected = std::move(expected);
    context.errors.push_back(std::move(error));
  };
  if (config.admin.port != 0 && config.admin.port == config.server.port) {
    fail("admin.port", std::to_string(config.admin.port), "a port other than server.port");
  }
  const AuthConfig& auth = config.auth;
  if (auth.mode == AuthMode::Token && auth.tokenFile.empty()) {
    fail("auth.token_file", "", "the path of the token file (auth.mode is token)");
  }
  if (auth.mode != AuthMode::Jwt) return;
  if (auth.jwt.algorithms.empty()) {
    fail("auth.jwt.algorithms", "[]", "at least one of HS256, RS256, ES256 (auth.mode is jwt)");
  }
  const std::pair<const char*, const std::string*> keyFiles[] = {
      {"HS256", &auth.jwt.hs256SecretFile},
      {"RS256", &auth.jwt.rs256PublicKeyFile},
      {"ES256", &auth.jwt.es256PublicKeyFile},
  };
  const auto& allowed = auth.jwt.algorithms;
  for (const auto& [algorithm, file] : keyFiles) {
    const bool isAllowed = std::find(allowed.begin(), allowed.end(), algorithm) != allowed.end();
    std::string key = std::string(algorithm) + "_secret_file";
    if (std::string_view(algorithm) != "HS256") key = std::string(algorithm) + "_public_key_file";
    for (char& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (isAllowed && file->empty()) {
      fail("auth.jwt." + key, "",
           std::string("a key file, since auth.jwt.algorithms allows ") + algorithm);
    } else if (!isAllowed && !file->empty()) {
      fail("auth.jwt." + key, *file,
           std::string("empty, or ") + algorithm + " listed in auth.jwt.algorithms");
    }
  }
}

bool load(std::string_view yaml, std::string_view sourceName, const Environment& env, Config& out,
          std::vector<ConfigError>& errors) {
  const size_t errorsBefore = errors.size();
  Context context{std::string(sourceName), {}, errors};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    ConfigError error;
    error.kind = Kind::Syntax;
    place(error, locate(context.source, e.mark));
    error.expected = "valid YAML";
    error.detail = e.msg;
    errors.push_back(std::move(error));
    return false;
  }
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    ConfigError error;
    error.kind = Kind::WrongType;
    error.where = context.source;
    error.value = display(root);
    error.expected = "a map of sections (server, heartbeat, ...)";
    errors.push_back(std::move(error));
    root = YAML::Node(YAML::NodeType::Undefined);
  }

  resolveEnvironment(env, root, context);
  Config config;
  Loader loader(context, root, {});
  describe(loader, config);
  loader.finish();
  checkAcrossKeys(config, context);
  if (errors.size() == errorsBefore) {
    out = std::move(config);
    return true;
  }
  // Collected in schema order; shown in file order, variables and whole-file ones first.
  std::stable_sort(errors.begin() + static_cast<ptrdiff_t>(errorsBefore), errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  return false;
}

}  // namespace

bool loadConfigString(std::string_view yaml, const Environment& env, Config& out,
                      std::vector<ConfigError>& errors, std::string_view sourceName) {
  return load(yaml, sourceName, env, out, errors);
}

bool loadConfigFile(const std::string& path, const Environment& env, Config& out,
                    std::vector<ConfigError>& errors) {
  std::ifstream file(path, std::ios::binary);
  std::string problem;
  if (!file) {
    problem = std::strerror(errno);
  } else if (std::filesystem::is_directory(path)) {
    problem = std::strerror(EISDIR);  // opening one succeeds; reading it gives nothing
  }
  std::ostringstream text;
  if (problem.empty() && !(text << file.rdbuf()) && file.bad()) problem = "read error";
  if (!problem.empty()) {
    ConfigError error;
    error.kind = ConfigError::Kind::File;
    error.where = path;
    error.value = path;
    error.expected = "a readable YAML file";
    error.detail = problem;
    errors.push_back(std::move(error));
    return false;
  }
  return load(text.str(), path, env, out, errors);
}

std::vector<std::string> configKeyPaths() {
  std::vector<std::string> paths;
  for (const auto& pattern : schemaPatterns()) {
    std::string path;
    for (const auto& segment : pattern) {
      if (!path.empty()) path += '.';
      path += segment.name.empty() ? "<name>" : segment.name;
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace wsr::config
