// A move-only `void()` callable with inline storage for small callables: what the pool's queue
// (models/thread_pool/detail/task_ring.h) holds. Internal to models/thread_pool/.
//
// What it is for: queueing a Promise (models/thread_pool/detail/shared_state.h, one pointer to
// its shared state), a Map chunk or a SubmitAll task without an allocation of its own. (A
// std::function cannot hold them at all: they are move-only.)
//
// What it guarantees: a callable of at most six pointers in size, aligned no more than
// std::max_align_t and nothrow move-constructible is stored inline; any other is moved to the
// heap, and freed with the Task. Moving a Task never throws and leaves the source empty.
// Destroying a Task destroys its callable (unrun, if it never ran), which is how a cancelled
// task breaks its promise.
//
// What it requires: the callable is invocable as `f()`; a Task is called only when non-empty
// (`if (task) task();`), and may be called more than once only if its callable allows it.
//
//   Task t([state] { state->Run(); });  // one pointer: stored inline
//   if (t) t();
//   Task u = std::move(t);  // t is empty now
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace concbench::thread_pool_internal {

// A move-only `void()` callable with inline storage for small callables, so that queueing a
// Promise (one pointer to its shared state) costs no allocation of its own.
class Task {
 public:
  Task() = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_v<std::decay_t<F>&>)
  explicit Task(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (kFitsInline<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* heap = new D(std::forward<F>(f));
      ::new (static_cast<void*>(buf_)) D*(heap);
      ops_ = &kHeapOps<D>;
    }
  }

  Task(Task&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->move(buf_, other.buf_);
    other.ops_ = nullptr;
  }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) ops_->move(buf_, other.buf_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->run(buf_); }

 private:
  static constexpr size_t kInlineSize = 6 * sizeof(void*);

  struct Ops {
    void (*run)(void*);
    void (*move)(void* dst, void* src);  // move-constructs into dst and destroys src
    void (*destroy)(void*);
  };

  template <class D>
  static constexpr bool kFitsInline = sizeof(D) <= kInlineSize &&
                                      alignof(D) <= alignof(std::max_align_t) &&
                                      std::is_nothrow_move_constructible_v<D>;

  template <class D>
  static constexpr Ops kInlineOps = {
      [](void* p) { (*std::launder(static_cast<D*>(p)))(); },
      [](void* dst, void* src) {
        D* s = std::launder(static_cast<D*>(src));
        ::new (dst) D(std::move(*s));
        s->~D();
      },
      [](void* p) { std::launder(static_cast<D*>(p))->~D(); },
  };

  template <class D>
  static constexpr Ops kHeapOps = {
      [](void* p) { (**std::launder(static_cast<D**>(p)))(); },
      [](void* dst, void* src) { ::new (dst) D*(*std::launder(static_cast<D**>(src))); },
      [](void* p) { delete *std::launder(static_cast<D**>(p)); },
  };

  void reset() {
    if (ops_ != nullptr) ops_->destroy(buf_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) std::byte buf_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace concbench::thread_pool_internal
