// Replays saved fuzz inputs (seed corpora and regression files) through the fuzz targets'
// entry points without libFuzzer, so any compiler and any build (the default one in `make test`,
// the sanitized one in `make test-sanitize`) checks that they still pass.
//
//   coffre_fuzz_replay TARGET PATH...   (a PATH is a file or a directory of files; names
//                                        starting with '.' and README* are skipped)
//
// Each target's LLVMFuzzerInitialize / LLVMFuzzerTestOneInput are compiled under the names
// CoffreFuzzInit_<target> / CoffreFuzzRun_<target> (see the fuzz section of CMakeLists.txt).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define COFFRE_FUZZ_TARGETS(X) \
  X(router)                    \
  X(key_json)                  \
  X(jwk_import)                \
  X(jwt)                       \
  X(base64url)                 \
  X(request_target)            \
  X(iso_duration)              \
  X(backup_restore)            \
  X(secrets)

#define COFFRE_DECLARE(name)                                     \
  extern "C" int CoffreFuzzInit_##name(int* argc, char*** argv); \
  extern "C" int CoffreFuzzRun_##name(const uint8_t* data, size_t size);
COFFRE_FUZZ_TARGETS(COFFRE_DECLARE)
#undef COFFRE_DECLARE

namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*init)(int*, char***);
  int (*run)(const uint8_t*, size_t);
};

constexpr Target kTargets[] = {
#define COFFRE_ENTRY(name) {#name, CoffreFuzzInit_##name, CoffreFuzzRun_##name},
    COFFRE_FUZZ_TARGETS(COFFRE_ENTRY)
#undef COFFRE_ENTRY
};

bool Skipped(const fs::path& path) {
  std::string name = path.filename().string();
  return name.empty() || name[0] == '.' || name.rfind("README", 0) == 0;
}

void Collect(const fs::path& path, std::vector<fs::path>& files) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
      if (entry.is_regular_file() && !Skipped(entry.path())) found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    std::fprintf(stderr, "replay: %s does not exist; skipped\n", path.string().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET PATH...\ntargets:", argv[0]);
    for (const Target& t : kTargets) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const Target* target = nullptr;
  for (const Target& t : kTargets) {
    if (std::strcmp(t.name, argv[1]) == 0) target = &t;
  }
  if (target == nullptr) {
    std::fprintf(stderr, "replay: unknown target %s\n", argv[1]);
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) Collect(argv[i], files);
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs for %s\n", target->name);
    return 1;
  }
  target->init(&argc, &argv);
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.string().c_str());
      return 1;
    }
    std::fprintf(stderr, "replay: %s %s (%zu bytes)\n", target->name, file.string().c_str(),
                 bytes.size());
    // A copy of exactly the input's size, as libFuzzer passes it (so ASan sees overreads).
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    target->run(data.empty() ? nullptr : data.data(), data.size());
  }
  std::fprintf(stderr, "replay: %s: %zu inputs ok\n", target->name, files.size());
  return 0;
}
