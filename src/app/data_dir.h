// Files in the data dir: private files are created 0600 (directories 0700) and written
// atomically (temp file, fsync, rename), so a crash never leaves half a file behind.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "coffre/status.h"

namespace coffre::app {

Status EnsurePrivateDirectory(const std::string& path);
// Writes the whole file atomically with the given mode.
Status WriteFileAtomically(const std::string& path, std::string_view content, int mode);
// nullopt if the file does not exist; an error if it cannot be read.
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);
// Reads a private file, refusing one that group or others may read.
Result<std::optional<std::string>> ReadPrivateFileIfExists(const std::string& path);

std::string JoinPath(const std::string& dir, std::string_view name);

// For the offline commands (`principal ... --data-dir`): the data dir must exist and hold a
// server's SQLite store (a non-empty DATA_DIR/coffre.db). They never create one: a mistyped path
// would otherwise get a fresh store with another tenant, and the principal made there would sign
// in nowhere.
Status RequireExistingStore(const std::string& data_dir);

}  // namespace coffre::app
