#include "tree/parallel.hpp"

#include <new>
#include <system_error>
#include <thread>

namespace ccopy::tree {

unsigned run_workers(unsigned threads, const std::function<void()>& work) {
  std::vector<std::thread> pool;
  try {
    pool.reserve(threads > 1 ? threads - 1 : 0);
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // The system refused a thread (EAGAIN): the ones already running and this one will do.
  } catch (const std::bad_alloc&) {
  }
  work();
  for (std::thread& t : pool) t.join();
  return static_cast<unsigned>(pool.size() + 1);
}

}  // namespace ccopy::tree
