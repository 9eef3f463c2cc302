// MapJob: the shared state of one ThreadPool::Map call (models/thread_pool/thread_pool.h) and the
// chunks it is cut into. Internal to models/thread_pool/.
//
// What it is for: Map needs no future per task: its chunks write their results into slots of one
// job and count down one shared completion, which is why Map is the pool's cheapest way to run a
// batch.
//
// What it guarantees: every chunk counts itself done exactly once, whether it ran or was
// destroyed unrun (a cancelled queue: broken_promise for its first item), so Wait() always
// returns. A chunk stops at its first exception; the error kept is that of the earliest failing
// item in input order.
//
// What it requires: the job outlives its chunks (Map waits for all of them before it returns).
//
//   MapJob<F, It, R> job(fn, first, n, chunks);
//   queue(MapJob<F, It, R>::Chunk(&job, lo, hi));  // one per chunk of items [lo, hi)
//   job.Wait(); if (job.error) std::rethrow_exception(job.error);
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace concbench::thread_pool_internal {

// One Map() call. Lives in Map()'s frame; its chunks point to it. The last chunk to finish
// wakes the caller, notifying while it holds `mu`, so the caller cannot return (and destroy
// the job) before that chunk is done with it. The first failing item in input order wins.
template <class F, class It, class R>
struct MapJob {
  MapJob(F& f, It it, size_t n, size_t chunks) : fn(f), first(it), slots(n), remaining(chunks) {}

  F& fn;
  const It first;
  std::vector<std::optional<R>> slots;
  std::atomic<size_t> remaining;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;               // guarded by mu
  std::exception_ptr error;        // guarded by mu until done
  size_t error_index = SIZE_MAX;   // guarded by mu

  void Fail(size_t index, std::exception_ptr e) {
    std::lock_guard lock(mu);
    if (index < error_index) error_index = index, error = std::move(e);
  }
  void ChunkDone() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    std::lock_guard lock(mu);
    done = true;
    cv.notify_one();
  }
  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return done; });
  }

  // Items [lo, hi). A chunk destroyed without running (cancelled by shutdown) reports
  // broken_promise for its first item, so Map() never waits for it forever.
  class Chunk {
   public:
    Chunk(MapJob* job, size_t lo, size_t hi) : job_(job), lo_(lo), hi_(hi) {}
    Chunk(Chunk&& o) noexcept : job_(std::exchange(o.job_, nullptr)), lo_(o.lo_), hi_(o.hi_) {}
    Chunk& operator=(Chunk&&) = delete;
    ~Chunk() {
      if (job_ == nullptr) return;
      job_->Fail(lo_, std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)));
      job_->ChunkDone();
    }
    void operator()() {
      MapJob* job = std::exchange(job_, nullptr);
      size_t i = lo_;
      try {
        // Stops at the chunk's first exception; the items after it in the chunk do not run.
        for (; i < hi_; ++i) {
          job->slots[i].emplace(std::invoke(job->fn, job->first[static_cast<std::ptrdiff_t>(i)]));
        }
      } catch (...) {
        job->Fail(i, std::current_exception());
      }
      job->ChunkDone();
    }

   private:
    MapJob* job_;
    size_t lo_, hi_;
  };
};

}  // namespace concbench::thread_pool_internal
