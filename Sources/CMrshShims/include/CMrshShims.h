#ifndef MRSH_SHIMS_H
#define MRSH_SHIMS_H
#include <stddef.h>
#include <sys/types.h>

/// memmem(3), which Swift's Glibc module does not expose.
const void *mrsh_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// The first occurrence of needle in haystack, like memmem(3), but SIMD-filtered on the needle's first
/// and last byte on x86-64 (AVX2 where the CPU has it, else SSE2): several times faster on text.
const void *mrsh_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// How many bytes of `s[0..<n]` equal `c` (AVX2 on x86-64 where the CPU has it): the literal grep scan's
/// count of input lines, at memory speed.
size_t mrsh_count_byte(const void *s, size_t n, unsigned char c);

/// memrchr(3), a GNU extension Swift's Glibc module does not expose.
const void *mrsh_memrchr(const void *s, int c, size_t n);

/// Ask the kernel to send SIGKILL to this process when its parent dies (Linux prctl PR_SET_PDEATHSIG).
/// Returns 0 on success, -1 where unsupported.
int mrsh_set_parent_death_signal(void);

/// posix_spawn(3) of `path` with `argv` (NULL-terminated) and this process's environment: standard input and
/// output on /dev/null, standard error inherited, every other descriptor closed in the child (glibc >= 2.34),
/// an empty signal mask and default handling of SIGINT, SIGTERM, SIGPIPE, SIGCHLD. Returns 0 and sets `*pid`,
/// or an errno value.
int mrsh_spawn_quiet(pid_t *pid, const char *path, char *const argv[]);

/// A read prefetch hint (the combiner's batched lookups); inlined into Swift callers.
static inline void mrsh_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
