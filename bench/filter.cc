#include "filter.h"

#include <stdexcept>
#include <string_view>

namespace concbench {
namespace {

// The regular expression part of a filter, and whether it is negated.
std::string_view Pattern(const std::string& filter, bool* negative) {
  std::string_view spec = filter;
  if (spec.empty() || spec == "all") spec = ".";
  *negative = spec.front() == '-';
  if (*negative) spec.remove_prefix(1);
  return spec;
}

std::regex Compile(const std::string& filter, bool* negative) {
  const std::string_view spec = Pattern(filter, negative);
  try {
    return std::regex(spec.begin(), spec.end(), std::regex_constants::extended);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("--benchmark_filter: '" + filter + "' is not a valid regular expression (" +
                                e.what() + ")");
  }
}

}  // namespace

std::optional<std::string> FilterError(const std::string& filter) {
  try {
    BenchmarkFilter f(filter);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return std::nullopt;
}

BenchmarkFilter::BenchmarkFilter(const std::string& filter) { re_ = Compile(filter, &negative_); }

bool BenchmarkFilter::Matches(const std::string& name) const { return std::regex_search(name, re_) != negative_; }

std::vector<Planned> SelectPlanned(const std::vector<Planned>& all, const std::string& filter) {
  const BenchmarkFilter f(filter);
  std::vector<Planned> out;
  for (const Planned& p : all) {
    if (f.Matches(p.name)) out.push_back(p);
  }
  return out;
}

}  // namespace concbench
