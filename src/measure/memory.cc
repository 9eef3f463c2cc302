#include "measure/memory.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <sys/resource.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace concbench {
namespace {

std::optional<int64_t> ParseKibValue(std::string_view rest) {
  const auto first = rest.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(first);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  return v;
}

std::optional<int64_t> FindField(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return ParseKibValue(line.substr(key.size() + 1));
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

std::optional<std::string> ReadProcFile(int pid, const char* name) {
  const std::string path =
      (pid == 0 ? std::string("/proc/self/") : "/proc/" + std::to_string(pid) + "/") + name;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> ReadStatus(int pid) { return ReadProcFile(pid, "status"); }

void Append(std::string* s, const char* name, const std::optional<int64_t>& v) {
  if (!s->empty()) *s += " | ";
  *s += name;
  *s += ": ";
  *s += v ? std::to_string(*v) + " KiB" : std::string("unavailable");
}

}  // namespace

void ParseProcStatus(std::string_view text, MemorySnapshot* out) {
  out->vm_rss_kib = FindField(text, "VmRSS");
  out->vm_hwm_kib = FindField(text, "VmHWM");
  out->vm_size_kib = FindField(text, "VmSize");
}

std::optional<int64_t> ReadProcStatusKib(std::string_view key, int pid) {
  const auto text = ReadStatus(pid);
  if (!text) return std::nullopt;
  return FindField(*text, key);
}

std::optional<int64_t> ReadSmapsRollupKib(std::string_view key, int pid) {
  const auto text = ReadProcFile(pid, "smaps_rollup");
  if (!text) return std::nullopt;
  return FindField(*text, key);
}

MemorySnapshot MemorySnapshot::Take() {
  MemorySnapshot m;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) m.ru_maxrss_kib = ru.ru_maxrss;
  if (const auto text = ReadStatus(0)) ParseProcStatus(*text, &m);
  return m;
}

std::string MemorySnapshot::ToString() const {
  std::string s;
  Append(&s, "ru_maxrss", ru_maxrss_kib);
  Append(&s, "VmRSS", vm_rss_kib);
  Append(&s, "VmHWM", vm_hwm_kib);
  Append(&s, "VmSize", vm_size_kib);
  return s;
}

std::optional<int64_t> PeakGrowthKib(const std::function<void(const std::function<void()>& at_peak)>& run) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  const auto before = ReadProcStatusKib("VmRSS");
  std::optional<int64_t> peak;
  run([&] { peak = ReadProcStatusKib("VmRSS"); });
  if (!before || !peak) return std::nullopt;
  return std::max<int64_t>(0, *peak - *before);
}

}  // namespace concbench
