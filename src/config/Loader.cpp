// Loading: YAML text -> Config, with WSROUTER_* environment overrides
// (EnvironmentOverrides.h) and the checks across keys (CrossKeyChecks.h).
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
#include "config/CrossKeyChecks.h"
#include "config/EnvironmentOverrides.h"
#include "config/KeyPaths.h"
#include "config/Schema.h"
#include "config/Suggestion.h"

namespace wsr::config {
namespace {

using schema::describe;
using Kind = ConfigError::Kind;

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

// What every visitor of one load shares.
struct Context {
  std::string source;                         // the file's name in messages
  std::map<std::string, Override> overrides;  // by joinPath(path)
  std::vector<ConfigError>& errors;
};

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

  context.overrides = resolveEnvironment(env, root, errors);
  Config config;
  Loader loader(context, root, {});
  describe(loader, config);
  loader.finish();
  checkAcrossKeys(config, context.source, errors);
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
