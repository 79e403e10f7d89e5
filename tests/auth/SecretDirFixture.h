#pragma once
// A Kubernetes-style Secret volume in a temporary directory, rotated the way
// the kubelet does it: each version of the data is a timestamped directory;
// `..data` is a symlink to the current one; each key is a symlink
// `<key> -> ..data/<key>`. A rotation writes the new directory, points a new
// `..data_tmp` symlink at it, renames that over `..data` (atomic) and removes
// the old directory.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace wsr::auth::test {

class SecretDir {
 public:
  SecretDir() {
    char pattern[] = "/tmp/wsrouter-secret-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~SecretDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  SecretDir(const SecretDir&) = delete;
  SecretDir& operator=(const SecretDir&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& key) const { return dir_ + "/" + key; }

  // Publishes a new version holding exactly `files` (key -> content).
  void rotate(const std::map<std::string, std::string>& files) {
    const std::string version = "..2026_11_22_09_00_00." + std::to_string(++versions_);
    const std::string versionDir = dir_ + "/" + version;
    std::filesystem::create_directory(versionDir);
    for (const auto& [key, content] : files) {
      std::ofstream(versionDir + "/" + key, std::ios::binary) << content;
    }
    const std::string tmp = dir_ + "/..data_tmp";
    std::filesystem::remove(tmp);
    std::filesystem::create_directory_symlink(version, tmp);
    std::filesystem::rename(tmp, dir_ + "/..data");
    for (const auto& [key, content] : files) {
      const std::string link = dir_ + "/" + key;
      if (!std::filesystem::is_symlink(link)) {
        std::filesystem::create_symlink("..data/" + key, link);
      }
    }
    if (!current_.empty()) std::filesystem::remove_all(dir_ + "/" + current_);
    current_ = version;
  }

 private:
  std::string dir_;
  std::string current_;
  int versions_ = 0;
};

}  // namespace wsr::auth::test
