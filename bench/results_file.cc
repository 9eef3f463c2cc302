#include "results_file.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace concbench {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonStrings(std::span<const std::string_view> items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + JsonString(std::string(items[i]));
  return out + "]";
}

ResultsFile::ResultsFile(std::string path, std::vector<std::string> planned,
                         std::function<ContextList()> end_context, ContextList tables)
    : path_(std::move(path)), planned_(std::move(planned)), end_context_(std::move(end_context)),
      tables_(std::move(tables)) {
  json_.SetOutputStream(&text_);
  json_.SetErrorStream(&text_);
}

std::string ResultsFile::Close(const std::string& body, bool closed, bool has_rows, const ContextList& extra,
                               const std::string& failed_row, const std::string& error) const {
  std::string text = body;
  const std::string open = "\"context\": {\n";
  const size_t at = text.find(open);
  if (at == std::string::npos) throw std::logic_error("ResultsFile: no context in the JSON text");
  std::string entries;
  for (const ContextList* list : {&extra, &tables_}) {
    for (const auto& [key, value] : *list) entries += "    " + JsonString(key) + ": " + JsonString(value) + ",\n";
  }
  text.insert(at + open.size(), entries);
  if (closed) return text;
  if (!failed_row.empty()) {
    text += has_rows ? ",\n" : "";
    text += "    {\n      \"name\": " + JsonString(failed_row) + ",\n      \"run_name\": " + JsonString(failed_row) +
            ",\n      \"run_type\": \"iteration\",\n      \"repetitions\": 0,\n      \"repetition_index\": 0,\n"
            "      \"threads\": 1,\n      \"iterations\": 0,\n      \"real_time\": 0,\n      \"cpu_time\": 0,\n"
            "      \"time_unit\": \"ms\",\n      \"error_occurred\": true,\n      \"error_message\": " +
            JsonString(error) + "\n    }";
  }
  return text + "\n  ]\n}\n";
}

bool ResultsFile::ReportContext(const Context& context) {
  std::lock_guard lock(mu_);
  const bool ok = json_.ReportContext(context);
  WriteLocked(Close(text_.str(), false, false,
                    {{"concbench_partial", "running: 0 of " + std::to_string(planned_.size()) + " benchmarks done"}}));
  return ok;
}

void ResultsFile::ReportRuns(const std::vector<Run>& runs) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  json_.ReportRuns(runs);
  if (runs.empty()) return;
  has_rows_ = true;
  // Google Benchmark reports a benchmark's repetitions and its aggregates in two calls.
  done_.insert(runs.front().run_name.str());
  WriteLocked(Close(text_.str(), false, true,
                    {{"concbench_partial", "running: " + std::to_string(done_.size()) + " of " +
                                               std::to_string(planned_.size()) + " benchmarks done"}}));
}

void ResultsFile::Finalize() {
  ContextList end = end_context_ ? end_context_() : ContextList{};
  std::lock_guard lock(mu_);
  if (finished_) return;
  json_.Finalize();
  WriteLocked(Close(text_.str(), true, has_rows_, end));
  finished_ = true;
}

void ResultsFile::WritePartial(const std::string& reason, const std::string& cut_short) {
  std::lock_guard lock(mu_);
  if (finished_ || text_.str().empty()) return;  // nothing written yet: no file rather than a false one
  WriteLocked(Close(text_.str(), false, has_rows_, {{"concbench_partial", reason}, {"concbench_not_run", NotRunLocked(cut_short)}},
                    cut_short, reason));
  finished_ = true;
}

std::string ResultsFile::NotRunLocked(const std::string& cut_short) const {
  std::string out;
  for (const std::string& name : planned_) {
    if (!done_.count(name) && name != cut_short) out += (out.empty() ? "" : "; ") + name;
  }
  return out;
}

void ResultsFile::WriteLocked(const std::string& text) {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::fprintf(stderr, "concbench: cannot write %s\n", tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) std::perror(("concbench: rename " + tmp).c_str());
}

}  // namespace concbench
