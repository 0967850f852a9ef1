#ifndef MRSH_MALLOC_COUNTER_H
#define MRSH_MALLOC_COUNTER_H

/// How many times this thread has called malloc, calloc or realloc since it started. The test binary's own
/// definitions of those functions count, then forward to glibc's (`__libc_malloc` ...): the allocator is
/// unchanged. Used by the hot-path allocation budgets (Swift Testing runs tests on several threads: the
/// count is per thread, so a synchronous test sees only its own allocations).
long mrsh_test_allocation_count(void);

#endif
