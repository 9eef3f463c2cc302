// UniqueFd owns one file descriptor and closes it when it goes away.
//
// It is move-only, like std::unique_ptr: exactly one UniqueFd closes a given descriptor, when it
// is destroyed, reset or assigned over. Code that opens several descriptors and fails half way
// then simply throws: whatever was opened is closed by the destructors, so no call site saves
// errno, closes by hand, restores errno and throws. Closing never changes errno, so an error
// still being reported keeps its cause while descriptors are closed around it.
//
// Guarantees: close(2) is called once per owned descriptor and its result is ignored (Linux
// releases the descriptor even when close reports an error, and retrying could close a
// descriptor another thread has just opened). get() of an empty UniqueFd is -1.
//
//   concbench::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) concbench::ThrowErrno(std::string("open ") + path);
//   ::read(fd.get(), buf, sizeof buf);  // closed at the end of the scope
#pragma once

namespace concbench {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative value (a failed open) makes an empty UniqueFd.
  explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

  // Gives up ownership without closing; returns the descriptor (or -1).
  int Release() noexcept;
  // Closes the owned descriptor, if any, and owns `fd` instead.
  void Reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace concbench
