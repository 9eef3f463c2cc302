#include "cells.h"

#include <cstdio>

#include "measure/ideal.h"
#include "results_file.h"

namespace concbench {
namespace {

// The notebook's process cells time `with ProcessPoolExecutor()`, pool start-up included, which is
// what processes.with_startup measures. Section 5.1 reruns section 3.1's function: one benchmark.
const std::vector<Cell>& Table() {
  static const std::vector<Cell> cells = {
      {"0", "0", "pause: time.sleep(0.1)", "cell", "sync/sleep", {{"tasks", 1}, {"sleep_ms", 100}},
       "python.sync/sleep", 0.101, ""},
      {"1", "1", "sync: 5 tasks × sleep 0.5 s", "cell", "sync/sleep", {{"tasks", 5}, {"sleep_ms", 500}},
       "python.sync/sleep", 2.510, ""},
      {"2", "2", "threads: 5 tasks × sleep 0.5 s, 5 workers", "cell", "threads/sleep",
       {{"tasks", 5}, {"workers", 5}, {"sleep_ms", 500}}, "python.threads/sleep", 0.506, ""},
      {"2.1.race", "2.1", "threads, no lock (race): 2 × 100,000 increments", "cell", "threads.race/counter",
       {{"threads", 2}, {"increments", 100'000}}, "python.threads.race/counter", 0.046, ""},
      {"2.1.mutex", "2.1", "threads with lock: 2 × 100,000 increments", "cell", "threads.mutex/counter",
       {{"threads", 2}, {"increments", 100'000}}, "python.threads.mutex/counter", 0.072, ""},
      {"3", "3", "asyncio gather: 5 tasks × sleep 0.5 s", "cell", "async/sleep", {{"tasks", 5}, {"sleep_ms", 500}},
       "python.async/sleep", 0.503, ""},
      {"3.coro", "3", "same cell, C++ coroutines (co_await, Gather)", "cell", "async.coro/sleep",
       {{"tasks", 5}, {"sleep_ms", 500}}, "python.async/sleep", 0.503, ""},
      {"3.1", "3.1", "asyncio sequential: 5 × sleep 0.3 s", "cell", "async.sequential/sleep",
       {{"tasks", 5}, {"sleep_ms", 300}}, "python.async.sequential/sleep", 1.506, ""},
      {"3.1.coro", "3.1", "same cell, C++ coroutines awaited in turn", "cell", "async.coro.sequential/sleep",
       {{"tasks", 5}, {"sleep_ms", 300}}, "python.async.sequential/sleep", 1.506, ""},
      {"4.serial", "4", "serial baseline: 4 × cpu_intensivo(200000)", "baseline", "sync/cpu",
       {{"tasks", 4}, {"n", 200'000}}, "python.sync/cpu", -1, ""},
      {"4.threads", "4", "threads: 4 × cpu_intensivo(200000)", "cell", "threads/cpu",
       {{"tasks", 4}, {"workers", 4}, {"n", 200'000}}, "python.threads/cpu", 0.129, "4.serial"},
      {"4.gil", "4", "same cell, C++ threads with a GIL-like lock", "cell", "threads.gil/cpu",
       {{"tasks", 4}, {"workers", 4}, {"n", 200'000}}, "python.threads/cpu", 0.129, "4.serial"},
      {"4.processes", "4", "processes: 4 × cpu_intensivo(200000)", "cell", "processes.with_startup/cpu",
       {{"tasks", 4}, {"workers", kDefaultWorkers}, {"n", 200'000}, {"chunksize", 1}},
       "python.processes.with_startup/cpu", 0.116, "4.serial"},
      {"4.1.serial", "4.1", "serial baseline: 200 × trabajo", "baseline", "sync/trabajo", {{"tasks", 200}}, "", -1, ""},
      {"4.1.chunk1", "4.1", "processes map: 200 × trabajo, chunksize 1", "cell", "processes.with_startup/trabajo",
       {{"tasks", 200}, {"workers", kDefaultWorkers}, {"chunksize", 1}, {"payload", 0}},
       "python.processes.with_startup/trabajo", 0.611, "4.1.serial"},
      {"4.1.chunk20", "4.1", "processes map: 200 × trabajo, chunksize 20", "cell", "processes.with_startup/trabajo",
       {{"tasks", 200}, {"workers", kDefaultWorkers}, {"chunksize", 20}, {"payload", 0}},
       "python.processes.with_startup/trabajo", 0.702, "4.1.serial"},
      {"5.1", "5.1", "asyncio sequential: 5 × sleep 0.3 s (labelled 0.2 s)", "cell", "async.sequential/sleep",
       {{"tasks", 5}, {"sleep_ms", 300}}, "python.async.sequential/sleep", 1.505, ""},
      {"5.2", "5.2", "threads: 5 tasks × sleep 0.2 s, 5 workers", "cell", "threads/sleep",
       {{"tasks", 5}, {"workers", 5}, {"sleep_ms", 200}, {"chunksize", 1}}, "python.threads/sleep", 0.203, ""},
      {"5.3.serial", "5.3", "serial baseline: tarea_normal(0..3)", "baseline", "sync/tarea_normal", {{"tasks", 4}},
       "", -1, ""},
      {"5.3", "5.3", "processes: tarea_normal(0..3)", "cell", "processes.with_startup/tarea_normal",
       {{"tasks", 4}, {"workers", kDefaultWorkers}, {"chunksize", 1}}, "python.processes.with_startup/tarea_normal",
       0.131, "5.3.serial"},
      // §6 measures memory, not time: the notebook printed VmRSS 68712 kB before and 81000 kB
      // after building the list of 300,000 ints.
      {"6", "6", "a list of 300,000 ints: resident memory growth", "cell", "sync/alloc", {{"n", 300'000}},
       "python.sync/alloc", -1, ""},
  };
  return cells;
}

}  // namespace

std::span<const Cell> Cells() { return Table(); }

std::vector<std::pair<std::string, int64_t>> CellArgs(const Cell& cell) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [name, value] : cell.args) {
    out.emplace_back(std::string(name), value == kDefaultWorkers ? UsableCores() : value);
  }
  return out;
}

std::string CellBenchmark(const Cell& cell) {
  std::string name(cell.family);
  for (const auto& [k, v] : CellArgs(cell)) name += "/" + k + ":" + std::to_string(v);
  return name;
}

std::string CellsJson() {
  std::string out = "{\"cells\": [";
  for (const Cell& c : Cells()) {
    std::string args, defaults;
    for (const auto& [k, v] : c.args) {
      if (v == kDefaultWorkers) defaults += std::string(defaults.empty() ? "" : ", ") + JsonString(std::string(k));
    }
    for (const auto& [k, v] : CellArgs(c)) args += std::string(args.empty() ? "" : ", ") + JsonString(k) + ": " + std::to_string(v);
    char printed[32] = "null";
    if (c.printed_s >= 0) std::snprintf(printed, sizeof printed, "%.3f", c.printed_s);
    if (&c != Cells().data()) out += ",";
    out += "\n  {\"id\": " + JsonString(std::string(c.id)) + ", \"section\": " + JsonString(std::string(c.section)) +
           ", \"label\": " + JsonString(std::string(c.label)) + ", \"role\": " + JsonString(std::string(c.role)) +
           ", \"benchmark\": " + JsonString(CellBenchmark(c)) + ", \"family\": " + JsonString(std::string(c.family)) +
           ", \"args\": {" + args + "}, \"defaults\": [" + defaults + "], \"python\": " +
           (c.python.empty() ? std::string("null") : JsonString(std::string(c.python))) + ", \"printed_s\": " + printed +
           ", \"baseline\": " + (c.baseline.empty() ? std::string("null") : JsonString(std::string(c.baseline))) + "}";
  }
  return out + "\n]}\n";
}

}  // namespace concbench
