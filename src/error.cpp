#include "ccopy/error.hpp"

#include "sys/sys.hpp"

namespace ccopy {

std::string Error::message() const {
  if (interrupted) return context.empty() ? std::string("interrupted") : context + ": interrupted";
  if (code == 0) return context;
  if (context.empty()) return sys::error_text(code);
  return context + ": " + sys::error_text(code);
}

Error Error::from_errno(int err, std::string what) { return Error{err, std::move(what)}; }

Error Error::failure(std::string what) { return Error{0, std::move(what)}; }

Error Error::cancelled(std::string what) { return Error{0, std::move(what), true}; }

}  // namespace ccopy
