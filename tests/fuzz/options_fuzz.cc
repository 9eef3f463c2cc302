// libFuzzer target for concbench's own flag parser (bench/options.cc).
//
// The input is split on '\n' into command-line arguments. Whatever the bytes, the parser must not
// crash or read out of bounds, must leave argv compacted and null-terminated, and on success every
// override value must lie inside its argument's documented range with no duplicates.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"concbench"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());

  concbench::Options opt;
  const auto err = concbench::ParseOwnFlags(&argc, argv.data(), &opt);
  if (argc < 1 || argc > static_cast<int>(args.size())) std::abort();
  if (err) {
    if (err->empty()) std::abort();  // an error always says something
    return 0;
  }
  if (argv[static_cast<size_t>(argc)] != nullptr) std::abort();
  for (const auto& [key, values] : opt.overrides) {
    const concbench::ArgSpec* spec = concbench::FindArg(key);
    if (spec == nullptr || values.empty()) std::abort();
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] < spec->min || values[i] > spec->max) std::abort();
      if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
          values.begin() + static_cast<std::ptrdiff_t>(i)) {
        std::abort();
      }
    }
  }
  (void)concbench::DescribeOptions(opt);
  return 0;
}
