#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

namespace concbench {
namespace {

std::string Clock(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

double Seconds(const benchmark::BenchmarkReporter::Run& r) {
  static constexpr double kUnit[] = {1e-9, 1e-6, 1e-3, 1.0};  // kNanosecond … kSecond
  return r.GetAdjustedRealTime() * kUnit[static_cast<int>(r.time_unit)];
}

const benchmark::BenchmarkReporter::Run* Median(const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  for (const auto& r : runs) {
    if (r.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate && r.aggregate_name == "median") return &r;
  }
  for (const auto& r : runs) {
    if (r.run_type == benchmark::BenchmarkReporter::Run::RT_Iteration && !r.error_occurred) return &r;
  }
  return nullptr;
}

// Columns of the terminal `out` writes to (80 when unknown).
size_t TerminalColumns(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

// The first `columns` characters of `s` (UTF-8 aware: continuation bytes do not count).
std::string FitColumns(const std::string& s, size_t columns) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == columns) return s.substr(0, i);
  }
  return s;
}

const char* Benchmarks(size_t n) { return n == 1 ? "benchmark" : "benchmarks"; }

// "~1:52 left", or "calibrating…" before the first repetition is done. (Appended piece by piece:
// GCC 12 warns, -Wrestrict, on "~" + a temporary std::string, PR c++/105329.)
std::string LeftText(const std::optional<double>& left) {
  if (!left) return "calibrating…";
  std::string s = "~";
  s += Clock(*left);
  s += " left";
  return s;
}

}  // namespace

std::string ShortName(const std::string& name) {
  std::string s = name;
  for (const std::string part : {"/real_time"}) {
    if (s.size() > part.size() && s.compare(s.size() - part.size(), part.size(), part) == 0) s.resize(s.size() - part.size());
  }
  const size_t it = s.find("/iterations:");
  if (it != std::string::npos) {
    const size_t end = s.find('/', it + 1);
    s.erase(it, end == std::string::npos ? std::string::npos : end - it);
  }
  return s;
}

std::string FormatSeconds(double s) {
  char buf[32];
  const double a = std::abs(s);
  if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else if (a >= 1) {
    std::snprintf(buf, sizeof buf, "%.4g s", s);
  } else if (a >= 1e-3) {
    std::snprintf(buf, sizeof buf, "%.4g ms", s * 1e3);
  } else if (a >= 1e-6) {
    std::snprintf(buf, sizeof buf, "%.4g µs", s * 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g ns", s * 1e9);
  }
  return buf;
}

std::string DescribeFinished(const std::vector<benchmark::BenchmarkReporter::Run>& runs) {
  // The whole message is listed again at the end of the run; here it is cut to fit a line.
  constexpr size_t kMaxError = 70;
  for (const auto& r : runs) {
    if (!r.error_occurred) continue;
    std::string msg = "failed: " + r.error_message;
    if (msg.size() > kMaxError) msg = msg.substr(0, kMaxError - 3) + "...";
    return msg;
  }
  const auto* m = Median(runs);
  if (m == nullptr) return "no result";
  std::string s = FormatSeconds(Seconds(*m));
  const auto eff = m->counters.find("efficiency");
  if (eff != m->counters.end()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "  eff %.3f", eff->second.value);
    s += buf;
  }
  return s + "  ✓";
}

ProgressReporter::ProgressReporter(std::vector<Planned> planned, int64_t repetitions, double min_time_s,
                                   std::FILE* out, benchmark::BenchmarkReporter* table, bool overwrite, Now now)
    : planned_(std::move(planned)),
      repetitions_(std::max<int64_t>(repetitions, 1)),
      left_(planned_, repetitions_, min_time_s),
      out_(out),
      table_(table),
      overwrite_(overwrite),
      now_(now ? std::move(now) : [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      }) {}

double ProgressReporter::Elapsed() const { return now_() - start_; }

bool ProgressReporter::ReportContext(const Context& context) {
  std::lock_guard lock(mu_);
  start_ = now_();
  running_ = true;
  std::string reps;
  if (repetitions_ > 1) reps = " × " + std::to_string(repetitions_) + " repetitions";
  std::fprintf(out_, "concbench: %zu %s%s, about %s planned\n", planned_.size(), Benchmarks(planned_.size()), reps.c_str(),
               Clock(left_.planned_s()).c_str());
  std::fflush(out_);
  return table_ == nullptr || table_->ReportContext(context);
}

void ProgressReporter::RunBegan(const std::string& name) {
  std::lock_guard lock(mu_);
  left_.RunBegan(name, Elapsed());
}

void ProgressReporter::RunEnded(const std::string& name, int64_t iterations) {
  std::lock_guard lock(mu_);
  left_.RunEnded(name, iterations, Elapsed());
}

void ProgressReporter::Tick() {
  std::lock_guard lock(mu_);
  if (!running_) return;
  const double t = Elapsed();
  const double quiet = t - last_line_;
  const double due = overwrite_ ? 1.0 : (last_line_ == 0 ? kFirstStatusS : kStatusEveryS);
  if (quiet < due) return;
  char head[64];
  std::snprintf(head, sizeof head, "  %s  %lld/%lld repetitions  ", Clock(t).c_str(),
                static_cast<long long>(left_.repetitions_done()), static_cast<long long>(left_.repetitions_planned()));
  std::string line = head;
  line += LeftText(left_.SecondsLeft(t));
  if (!left_.running().empty()) {
    char ran[32];
    std::snprintf(ran, sizeof ran, " (%.1f s)", t - left_.running_since_s());
    line += "  now ";
    line += ShortName(left_.running());
    line += ran;
  }
  Emit(line, /*keep=*/false);
}

// Google Benchmark reports a benchmark in up to two calls: its repetitions, then (with two or
// more successful repetitions) its aggregates. One line is printed per benchmark, from the
// aggregates when they come.
void ProgressReporter::ReportRuns(const std::vector<Run>& runs) {
  std::lock_guard lock(mu_);
  if (table_ != nullptr) table_->ReportRuns(runs);
  if (runs.empty()) return;
  left_.Finished(runs.front().run_name.str());
  const bool aggregates = runs.front().run_type == Run::RT_Aggregate;
  const bool any_error = std::any_of(runs.begin(), runs.end(), [](const Run& r) { return r.error_occurred; });
  if (!aggregates) {
    if (!pending_.empty()) PrintFinished(pending_);  // its aggregates never came
    pending_.clear();
    if (!any_error && runs.front().repetitions > 1) {
      pending_ = runs;
      return;
    }
    PrintFinished(runs);
    return;
  }
  std::vector<Run> all = pending_;
  pending_.clear();
  all.insert(all.end(), runs.begin(), runs.end());
  PrintFinished(all);
}

void ProgressReporter::PrintFinished(const std::vector<Run>& runs) {
  const std::string name = runs.front().run_name.str();
  ++done_;
  const bool failed = std::any_of(runs.begin(), runs.end(), [](const Run& r) { return r.error_occurred; });
  if (failed) ++failed_;
  const double elapsed = Elapsed();
  const size_t total = std::max(planned_.size(), done_);
  const int width = static_cast<int>(std::to_string(total).size());
  char head[96];
  std::snprintf(head, sizeof head, "[%*zu/%zu] ", width, done_, total);
  std::string line = head;
  std::string shown = ShortName(name);
  shown.resize(std::max<size_t>(shown.size(), 50), ' ');
  line += shown + " " + DescribeFinished(runs) + "  " + Clock(elapsed);
  if (done_ < total) {
    line += " (";
    line += LeftText(left_.SecondsLeft(elapsed));
    line += ")";
  }
  Emit(line, /*keep=*/failed);
}

void ProgressReporter::Emit(std::string line, bool keep) {
  if (line_open_) std::fputs("\r\033[K", out_);  // back to the start of the line, cleared
  line_open_ = overwrite_ && !keep;
  // A replaceable line must not wrap, or the carriage return would only go back one row.
  if (line_open_) line = FitColumns(line, TerminalColumns(out_) - 1);
  std::fputs(line.c_str(), out_);
  if (!line_open_) std::fputc('\n', out_);
  std::fflush(out_);
  last_line_ = Elapsed();
}

void ProgressReporter::Finalize() {
  std::lock_guard lock(mu_);
  if (!pending_.empty()) PrintFinished(pending_);
  pending_.clear();
  running_ = false;
  if (table_ != nullptr) table_->Finalize();
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
  std::fprintf(out_, "concbench: %zu %s in %s, %zu failed", done_, Benchmarks(done_), Clock(Elapsed()).c_str(),
               failed_);
  if (done_ < planned_.size()) std::fprintf(out_, ", %zu did not run", planned_.size() - done_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace concbench
