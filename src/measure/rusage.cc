#include "measure/rusage.h"

#include <sys/resource.h>

namespace concbench {
namespace {

double TimevalSeconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

}  // namespace

RusageDelta& RusageDelta::operator+=(const RusageDelta& o) {
  self_user_s += o.self_user_s;
  self_system_s += o.self_system_s;
  children_user_s += o.children_user_s;
  children_system_s += o.children_system_s;
  voluntary_switches += o.voluntary_switches;
  involuntary_switches += o.involuntary_switches;
  return *this;
}

RusageSample RusageSample::Take() {
  RusageSample s;
  rusage self{};
  rusage children{};
  // getrusage cannot fail for these two `who` values with a valid pointer.
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  s.totals.self_user_s = TimevalSeconds(self.ru_utime);
  s.totals.self_system_s = TimevalSeconds(self.ru_stime);
  s.totals.children_user_s = TimevalSeconds(children.ru_utime);
  s.totals.children_system_s = TimevalSeconds(children.ru_stime);
  s.totals.voluntary_switches = self.ru_nvcsw + children.ru_nvcsw;
  s.totals.involuntary_switches = self.ru_nivcsw + children.ru_nivcsw;
  return s;
}

RusageDelta operator-(const RusageSample& after, const RusageSample& before) {
  const RusageDelta& a = after.totals;
  const RusageDelta& b = before.totals;
  RusageDelta d;
  d.self_user_s = a.self_user_s - b.self_user_s;
  d.self_system_s = a.self_system_s - b.self_system_s;
  d.children_user_s = a.children_user_s - b.children_user_s;
  d.children_system_s = a.children_system_s - b.children_system_s;
  d.voluntary_switches = a.voluntary_switches - b.voluntary_switches;
  d.involuntary_switches = a.involuntary_switches - b.involuntary_switches;
  return d;
}

}  // namespace concbench
