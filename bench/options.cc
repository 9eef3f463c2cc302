#include "options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>

namespace concbench {
namespace {

constexpr size_t kMaxListValues = 64;

constexpr std::array<ArgSpec, 14> kArgs{{
    {"tasks", 1, 1'000'000, "tasks per batch"},
    {"workers", 1, 4'096, "worker threads or processes"},
    {"sleep_ms", 0, 60'000, "simulated I/O per task, milliseconds"},
    {"sleep_us", 0, 60'000'000, "simulated I/O per task, microseconds"},
    {"chunksize", 1, 1'000'000, "tasks per message to a worker"},
    {"n", 0, 1'000'000'000, "CPU work size (cpu_intensivo's n)"},
    {"payload", 0, 16 << 20, "bytes per task crossing a process or socket boundary"},
    {"threads", 1, 4'096, "threads incrementing a shared counter"},
    {"increments", 1, 100'000'000, "increments per thread"},
    {"delay_ms", 0, 60'000, "echo server's delay before answering, milliseconds"},
    {"stack_kib", 16, 1 << 20, "thread stack size, KiB"},
    {"cpu_us", 0, 10'000'000, "CPU per step of a mixed task, microseconds of cpu_intensivo"},
    {"io_ms", 0, 60'000, "wait per step of a mixed task, milliseconds"},
    {"steps", 1, 100, "rounds of compute then wait in a mixed task"},
}};

std::string Quote(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

std::string Allowed(const ArgSpec& spec) {
  return "expected a comma-separated list of integers in [" + std::to_string(spec.min) + ", " +
         std::to_string(spec.max) + "] (" + std::string(spec.meaning) + ")";
}

bool OneOf(std::string_view v, std::initializer_list<std::string_view> choices) {
  for (std::string_view c : choices) {
    if (v == c) return true;
  }
  return false;
}

std::optional<double> ParseDouble(std::string_view v) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return d;
}

// Google Benchmark 1.7.1 prints its usage and exits 0 on some bad values (a format or time unit
// it does not know), crashes on others (a negative repetition count) and silently accepts the
// rest (a zero or negative minimum time, a boolean spelled "maybe"). Check the values before it
// sees them; flags not listed here are left to it.
std::optional<std::string> CheckBenchmarkFlag(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return std::nullopt;  // "--benchmark_list_tests" means true
  const std::string_view key = arg.substr(2, eq - 2);
  const std::string_view v = arg.substr(eq + 1);
  auto bad = [&](std::string_view allowed) {
    return "--" + std::string(key) + ": invalid value " + Quote(v) + "; expected " + std::string(allowed);
  };
  if (key == "benchmark_format" || key == "benchmark_out_format") {
    if (!OneOf(v, {"console", "json", "csv"})) return bad("one of console, json, csv");
  } else if (key == "benchmark_time_unit") {
    if (!OneOf(v, {"ns", "us", "ms", "s"})) return bad("one of ns, us, ms, s");
  } else if (key == "benchmark_repetitions") {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 10'000) {
      return bad("an integer in [1, 10000]");
    }
  } else if (key == "benchmark_min_time") {
    const auto d = ParseDouble(v);
    if (!d || !(*d > 0) || *d > 3600) return bad("seconds, a number in (0, 3600]");
  } else if (key == "benchmark_min_warmup_time") {
    const auto d = ParseDouble(v);
    if (!d || !(*d >= 0) || *d > 3600) return bad("seconds, a number in [0, 3600]");
  } else if (key == "benchmark_list_tests" || key == "benchmark_enable_random_interleaving" ||
             key == "benchmark_report_aggregates_only" || key == "benchmark_display_aggregates_only" ||
             key == "benchmark_counters_tabular") {
    if (!OneOf(v, {"true", "false", "1", "0", "yes", "no"})) return bad("true or false");
  } else if (key == "benchmark_color") {
    if (!OneOf(v, {"auto", "true", "false", "1", "0", "yes", "no"})) return bad("auto, true or false");
  } else if (key == "benchmark_out") {
    if (v.empty()) return bad("a file name");
  }
  return std::nullopt;
}

// Sets *out to the choice named `value`, or says what is allowed: "--suite: unknown suite 'fast';
// expected one of notebook, smoke, sweep".
template <class E>
std::optional<std::string> ParseChoice(std::string_view flag, std::string_view noun, std::string_view value,
                                       std::initializer_list<std::pair<std::string_view, E>> choices, E* out) {
  std::string names;
  for (const auto& [name, choice] : choices) {
    if (value == name) {
      *out = choice;
      return std::nullopt;
    }
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return "--" + std::string(flag) + ": unknown " + std::string(noun) + " " + Quote(value) + "; expected one of " +
         names;
}

// --timeout_s=SECONDS: a finite number ≥ 0, at most a day (0: no deadline).
std::optional<std::string> ParseTimeout(bool has_value, std::string_view value, std::optional<double>* out) {
  const std::string usage = "--timeout_s needs a number of seconds from 0 (no deadline) to 86400";
  const std::optional<double> v = has_value ? ParseDouble(value) : std::nullopt;
  if (!v || !std::isfinite(*v) || *v < 0 || *v > 86400) {
    return has_value ? usage + ", got '" + std::string(value) + "'" : usage;
  }
  *out = *v;
  return std::nullopt;
}

// "10", "0.5": the shortest text of a bound.
std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A number of `unit` from `lo` to `hi` for `--flag`.
std::optional<std::string> ParseNumber(std::string_view flag, std::string_view unit, double lo, double hi, bool has_value,
                                       std::string_view value, double* out) {
  const std::string usage = "--" + std::string(flag) + " needs a number of " + std::string(unit) + " from " +
                            Fixed(lo) + " to " + Fixed(hi);
  const std::optional<double> v = has_value ? ParseDouble(value) : std::nullopt;
  if (!v || !std::isfinite(*v) || *v < lo || *v > hi) return has_value ? usage + ", got '" + std::string(value) + "'" : usage;
  *out = *v;
  return std::nullopt;
}

}  // namespace

std::string_view SuiteName(Suite s) {
  switch (s) {
    case Suite::kNotebook: return "notebook";
    case Suite::kSmoke: return "smoke";
    case Suite::kSweep: return "sweep";
    case Suite::kMap: return "map";
    case Suite::kCrossover: return "crossover";
  }
  return "?";
}

std::span<const ArgSpec> KnownArgs() { return kArgs; }

const ArgSpec* FindArg(std::string_view name) {
  for (const ArgSpec& a : kArgs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<std::string> ParseValueList(std::string_view value, const ArgSpec& spec,
                                          std::vector<int64_t>* out) {
  const std::string flag = "--" + std::string(spec.name);
  auto fail = [&](const std::string& what) {
    return std::optional<std::string>(flag + ": " + what + "; " + Allowed(spec));
  };
  if (value.empty()) return fail("empty value");
  std::vector<int64_t> values;
  size_t pos = 0;
  while (true) {
    const size_t comma = value.find(',', pos);
    const std::string_view item =
        value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (item.empty()) return fail("empty item in " + Quote(value));
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec == std::errc::result_out_of_range) return fail(Quote(item) + " is out of range");
    if (ec != std::errc() || end != item.data() + item.size()) {
      return fail(Quote(item) + " is not an integer");
    }
    if (v < spec.min || v > spec.max) return fail(Quote(item) + " is out of range");
    if (std::find(values.begin(), values.end(), v) != values.end()) {
      return fail(Quote(item) + " is repeated");
    }
    values.push_back(v);
    if (values.size() > kMaxListValues) {
      return fail("more than " + std::to_string(kMaxListValues) + " values");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  *out = std::move(values);
  return std::nullopt;
}

std::optional<std::string> ParseOwnFlags(int* argc, char** argv, Options* out) {
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, 12) == "--benchmark_") {
      if (auto err = CheckBenchmarkFlag(arg)) return err;
    }
    if (arg.substr(0, 2) != "--" || arg.substr(0, 12) == "--benchmark_" || arg == "--help" ||
        arg.substr(0, 4) == "--v=") {
      argv[kept++] = argv[i];
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string_view key = arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2);
    const bool has_value = eq != std::string_view::npos;
    const std::string_view value = has_value ? arg.substr(eq + 1) : std::string_view();
    if (key == "probe" || key == "no_probe" || key == "no_machine_ideal") {
      if (has_value) return "--" + std::string(key) + " takes no value";
      (key == "probe" ? out->probe : key == "no_probe" ? out->no_probe : out->no_machine_ideal) = true;
      continue;
    }
    if (key == "list_models" || key == "list_workloads" || key == "list_cells" || key == "list_planned") {
      if (has_value) return "--" + std::string(key) + " takes no value";
      if (!out->list.empty()) return "--" + std::string(key) + " and --list_" + out->list + " cannot be given together";
      out->list = std::string(key.substr(5));
      continue;
    }
    std::optional<std::string> err;
    if (key == "suite") {
      out->suite_given = true;
      if (!has_value) return "--suite needs a value: --suite=notebook|smoke|sweep|map|crossover";
      err = ParseChoice("suite", "suite", value,
                        {{"notebook", Suite::kNotebook}, {"smoke", Suite::kSmoke}, {"sweep", Suite::kSweep},
                         {"map", Suite::kMap}, {"crossover", Suite::kCrossover}},
                        &out->suite);
    } else if (key == "display") {
      err = ParseChoice("display", "value", value, {{"auto", Display::kAuto}, {"progress", Display::kProgress},
                                                    {"table", Display::kTable}}, &out->display);
    }
    if (key == "suite" || key == "display") {
      if (err) return err;
      continue;
    }
    if (key == "console_out") {
      if (!has_value || value.empty()) return "--console_out needs a file name: --console_out=PATH";
      out->console_out = std::string(value);
      continue;
    }
    if (key == "timeout_s") {
      if (auto err = ParseTimeout(has_value, value, &out->timeout_s)) return err;
      continue;
    }
    if (key == "trace") {
      if (!has_value || value.empty()) return std::string("--trace needs a file name: --trace=PATH");
      out->trace = std::string(value);
      continue;
    }
    if (key == "trace_filter") {
      if (!has_value || value.empty()) return std::string("--trace_filter needs a regular expression: --trace_filter=REGEX");
      out->trace_filter = std::string(value);
      continue;
    }
    if (key == "inject_slowdown") {
      if (auto err = ParseNumber(key, "percent", 0, 1000, has_value, value, &out->inject_slowdown_pct)) return err;
      continue;
    }
    if (const ArgSpec* spec = FindArg(key)) {
      if (!has_value) return "--" + std::string(key) + " needs a value; " + Allowed(*spec);
      std::vector<int64_t> values;
      if (auto err = ParseValueList(value, *spec, &values)) return err;
      out->overrides[std::string(key)] = std::move(values);
      continue;
    }
    // Not ours: Google Benchmark reports it as unrecognised.
    argv[kept++] = argv[i];
  }
  *argc = kept;
  argv[kept] = nullptr;
  return std::nullopt;
}

std::string OwnFlagsHelp() {
  std::string s =
      "concbench flags:\n"
      "  --suite=notebook|smoke|sweep|map|crossover\n"
      "                                 argument grids to register (default: notebook)\n"
      "      notebook: the notebook's own parameters; smoke: tiny, seconds; sweep: wide;\n"
      "      map: the mixed CPU + I/O workload on every model (scripts/map); crossover: the\n"
      "      notebook's CPU cells grown until the winner changes (scripts/map --crossovers)\n"
      "  --display=auto|progress|table  one line per benchmark with time left, or Google\n"
      "      Benchmark's table (default auto: progress on a terminal, else the table;\n"
      "      --benchmark_format=console also gives the table)\n"
      "  --console_out=PATH             also write Google Benchmark's table to PATH\n"
      "  --probe                        measure the machine (parallel capacity, noise, wake-up,\n"
      "      sleep overshoot, fork, load...), print its card and exit\n"
      "  --no_probe                     skip the machine probe a run starts and ends with\n"
      "      (its machine_* context keys are then absent)\n"
      "  --no_machine_ideal             skip the calibration before each repetition of a\n"
      "      parallel model's compute (machine_ideal_s, machine_capacity and\n"
      "      machine_efficiency are then absent)\n"
      "  --list_models                  print the table of models (JSON) and exit\n"
      "  --list_workloads               print the table of workloads (JSON) and exit\n"
      "  --list_cells                   print the notebook's cells and the benchmarks that\n"
      "      reproduce them (JSON) and exit\n"
      "  --list_planned                 print the benchmarks the other flags select, with their\n"
      "      planned iterations and seconds (JSON), and exit: what scripts/map and scripts/sweep\n"
      "      plan with\n"
      "  --trace=PATH                   after each benchmark's timed repetitions, one untimed\n"
      "      batch more, every task and step on its lane (thread, worker, loop) written to PATH\n"
      "      in the Chrome Trace Event Format (Perfetto UI, chrome://tracing)\n"
      "  --trace_filter=REGEX           trace only the benchmarks whose name REGEX matches\n"
      "  --inject_slowdown=PCT          a positive control: every compute step does PCT % more\n"
      "      work of its own kind (0 to 1000; recorded in the context), so a comparison can be\n"
      "      checked against a known change\n"
      "  --timeout_s=SECONDS            each benchmark run's deadline, 0 for none (default:\n"
      "      the larger of 60 s and 10 x the run's planned time); past it a process pool\n"
      "      reports its stalled worker, or the watchdog ends the run with exit status 3\n"
      "  grid overrides (comma-separated integers, replace the suite's values for every\n"
      "  family that has the argument):\n";
  for (const ArgSpec& a : kArgs) {
    std::string line = "  --" + std::string(a.name) + "=LIST";
    line.resize(std::max<size_t>(line.size() + 1, 34), ' ');
    s += line + std::string(a.meaning) + ", " + std::to_string(a.min) + ".." +
         std::to_string(a.max) + "\n";
  }
  return s;
}

std::string DescribeOptions(const Options& o) {
  std::string s = "suite=" + std::string(SuiteName(o.suite));
  if (o.inject_slowdown_pct > 0) s += " inject_slowdown=" + Fixed(o.inject_slowdown_pct);
  if (o.no_machine_ideal) s += " no_machine_ideal";
  for (const auto& [key, values] : o.overrides) {
    s += " " + key + "=";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) s += ",";
      s += std::to_string(values[i]);
    }
  }
  return s;
}

}  // namespace concbench
