// The table of the notebook's cells ("Síncrono vs Asíncrono"): for each timed cell, its section,
// what it does, the C++ benchmark that reproduces it (family and arguments), the notebook's own
// Python twin run live beside it, and the time the notebook printed. It is the one list of the
// notebook's parameters: the notebook suite registers these benchmarks (bench/registry.h adds a
// cell's arguments to its family's notebook grids), the binary exports the table
// (`concbench --list_cells`), and scripts/notebook_python.py and the report read it from there.
//
// Besides the cells there are serial baselines (role "baseline"): the same work run by `sync`,
// which a parallel cell is measured against.
//
//   for (const Cell& c : Cells()) std::cout << c.section << " " << c.family << "\n";
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concbench {

// An argument value the notebook left to the executor's default: ProcessPoolExecutor()'s
// worker count, the usable cores. Resolved by CellArgs.
inline constexpr int64_t kDefaultWorkers = -1;

struct Cell {
  std::string_view id;       // unique: "4.1.chunk20"
  std::string_view section;  // "4.1"
  std::string_view label;    // what the cell does, in a few words
  std::string_view role;     // "cell" or "baseline"
  std::string_view family;   // the C++ benchmark's family: "processes.with_startup/trabajo"
  std::vector<std::pair<std::string_view, int64_t>> args;  // in the benchmark name's order
  std::string_view python;   // the Python twin's family ("python.threads/cpu"), or "" for none
  double printed_s = -1;     // the time the notebook printed, seconds; < 0 when it printed none
  std::string_view baseline; // the id of the serial baseline a parallel cell is compared with, or ""
};

std::span<const Cell> Cells();

// A cell's arguments with kDefaultWorkers resolved.
std::vector<std::pair<std::string, int64_t>> CellArgs(const Cell& cell);

// "processes.with_startup/trabajo/tasks:200/workers:2/chunksize:20/payload:0": the benchmark's
// name without Google Benchmark's parts (iterations, real_time).
std::string CellBenchmark(const Cell& cell);

// The table as JSON: {"cells": [{"id", "section", "label", "role", "benchmark", "family",
// "args": {...}, "defaults": ["workers"], "python", "printed_s", "baseline"}, ...]}.
std::string CellsJson();

}  // namespace concbench
