#include "CMallocCounter.h"
#include <stddef.h>

#if defined(__GLIBC__) || defined(__linux__)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);

/* initial-exec: the executable's static TLS, safe to touch inside malloc on any thread. */
static __thread long allocations __attribute__((tls_model("initial-exec")));

void *malloc(size_t size) {
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    allocations++;
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    allocations++;
    return __libc_realloc(pointer, size);
}

long mrsh_test_allocation_count(void) { return allocations; }
#else
long mrsh_test_allocation_count(void) { return -1; }
#endif
