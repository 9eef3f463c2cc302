// A snapshot of the process's memory, read from the kernel: the notebook's `get_memory_info`.
//
// Sources: getrusage(RUSAGE_SELF).ru_maxrss (peak resident set, KiB on Linux) and, on Linux,
// the VmRSS (resident now), VmHWM (peak resident) and VmSize (virtual) lines of
// /proc/self/status. A source that is missing or unreadable leaves its field empty rather than
// failing; ToString() says "unavailable" for it.
//
//   auto m = concbench::MemorySnapshot::Take();
//   if (m.vm_rss_kib) std::cout << *m.vm_rss_kib << " KiB resident\n";
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace concbench {

struct MemorySnapshot {
  std::optional<int64_t> ru_maxrss_kib;
  std::optional<int64_t> vm_rss_kib;
  std::optional<int64_t> vm_hwm_kib;
  std::optional<int64_t> vm_size_kib;

  static MemorySnapshot Take();

  // "ru_maxrss: 134472 KiB | VmRSS: 68328 KiB | VmHWM: ... | VmSize: ..."
  std::string ToString() const;
};

// Fills the Vm* fields from the text of a /proc/<pid>/status file; lines it does not know are
// ignored and malformed values leave the field empty.
void ParseProcStatus(std::string_view text, MemorySnapshot* out);

// Reads one "Key:   123 kB" field of /proc/<pid>/status (pid 0 means self); empty if absent.
std::optional<int64_t> ReadProcStatusKib(std::string_view key, int pid = 0);

// Reads one field ("Rss", "Pss", "Pss_Anon", ...) of /proc/<pid>/smaps_rollup (Linux ≥ 4.14;
// pid 0 means self); empty if the file or the field is missing. PSS divides every shared page
// among the processes that map it, so the PSS of forked children counts copy-on-write sharing
// honestly where RSS counts shared pages once per process.
std::optional<int64_t> ReadSmapsRollupKib(std::string_view key, int pid = 0);

// The resident memory a batch holds at its peak: gives freed heap memory back to the kernel
// (malloc_trim, so the batch's memory shows up as growth instead of reusing pages an earlier one
// left resident), reads VmRSS, then runs `run(at_peak)`, which must call at_peak() once while
// everything it measures is alive. Growth in KiB (≥ 0), or nothing when VmRSS cannot be read or
// at_peak was not called.
std::optional<int64_t> PeakGrowthKib(const std::function<void(const std::function<void()>& at_peak)>& run);

}  // namespace concbench
