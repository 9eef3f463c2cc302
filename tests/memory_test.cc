#include "measure/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace concbench {
namespace {

TEST(MemoryTest, ParsesProcStatusFields) {
  MemorySnapshot m;
  ParseProcStatus("Name:\tx\nVmSize:\t 1058292 kB\nVmHWM:\t  70000 kB\nVmRSS:\t   68328 kB\n", &m);
  EXPECT_EQ(m.vm_size_kib, 1058292);
  EXPECT_EQ(m.vm_rss_kib, 68328);
  EXPECT_EQ(m.vm_hwm_kib, 70000);
}

TEST(MemoryTest, MissingOrMalformedFieldsStayEmpty) {
  MemorySnapshot m;
  ParseProcStatus("VmRSS:\tlots kB\nVmRSSX: 5 kB\n", &m);
  EXPECT_FALSE(m.vm_rss_kib.has_value());
  EXPECT_FALSE(m.vm_size_kib.has_value());
  EXPECT_NE(m.ToString().find("VmRSS: unavailable"), std::string::npos);
}

TEST(MemoryTest, SnapshotReadsTheKernel) {
  const MemorySnapshot m = MemorySnapshot::Take();
  ASSERT_TRUE(m.ru_maxrss_kib.has_value());
  ASSERT_TRUE(m.vm_rss_kib.has_value());
  EXPECT_GT(*m.vm_rss_kib, 0);
  EXPECT_GE(*m.vm_size_kib, *m.vm_rss_kib);
  EXPECT_NE(m.ToString().find("ru_maxrss: "), std::string::npos);
}

TEST(MemoryTest, TouchedAllocationShowsInVmRss) {
  constexpr size_t kBytes = 64u << 20;
  const int64_t before = *MemorySnapshot::Take().vm_rss_kib;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);  // touch every page so it is resident
  const MemorySnapshot during = MemorySnapshot::Take();
  // At least 3/4 of 64 MiB more resident; the bound is wide for allocator differences.
  EXPECT_GE(*during.vm_rss_kib - before, 48 * 1024);
  EXPECT_GE(*during.vm_hwm_kib, *during.vm_rss_kib);
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(MemoryTest, ReadsOneStatusField) {
  EXPECT_TRUE(ReadProcStatusKib("VmRSS").has_value());
  EXPECT_FALSE(ReadProcStatusKib("NoSuchField").has_value());
}

}  // namespace
}  // namespace concbench
