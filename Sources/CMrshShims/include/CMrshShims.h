#ifndef MRSH_SHIMS_H
#define MRSH_SHIMS_H
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// memmem(3), which Swift's Glibc module does not expose.
const void *mrsh_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// The first occurrence of needle in haystack, like memmem(3), but SIMD-filtered on the needle's first
/// and last byte on x86-64 (AVX2 where the CPU has it, else SSE2): several times faster on text.
const void *mrsh_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// How many bytes of `s[0..<n]` equal `c` (AVX2 on x86-64 where the CPU has it): the literal grep scan's
/// count of input lines, at memory speed.
size_t mrsh_count_byte(const void *s, size_t n, unsigned char c);

/// The offset of the first byte of `s[0..<n]` that is `"`, `\` or below 0x20 (n when there is none):
/// where `parse json`'s string scan must look (16 bytes at a time with SSE2 on x86-64).
size_t mrsh_json_string_scan(const void *s, size_t n);

/// memrchr(3), a GNU extension Swift's Glibc module does not expose.
const void *mrsh_memrchr(const void *s, int c, size_t n);

/// Ask the kernel to send SIGKILL to this process when its parent dies (Linux prctl PR_SET_PDEATHSIG).
/// Returns 0 on success, -1 where unsupported.
int mrsh_set_parent_death_signal(void);

/// Sets glibc's mmap threshold (blocks at least this big get their own mapping) and trim threshold (free
/// heap kept before it is returned to the system); see mallopt(3). A no-op on other C libraries.
void mrsh_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold);

/// posix_spawn(3) of `path` with `argv` (NULL-terminated) and this process's environment: standard input and
/// output on /dev/null, standard error inherited, every other descriptor closed in the child (glibc >= 2.34),
/// an empty signal mask and default handling of SIGINT, SIGTERM, SIGPIPE, SIGCHLD. Returns 0 and sets `*pid`,
/// or an errno value.
int mrsh_spawn_quiet(pid_t *pid, const char *path, char *const argv[]);

/// posix_spawn(3) of `path` with `argv` and `envp` (both NULL-terminated) in directory `cwd` (NULL: this
/// process's), its standard input, output and error on `in_fd`, `out_fd`, `err_fd` (dup2'ed to 0, 1, 2),
/// every other descriptor closed in the child (glibc >= 2.34), an empty signal mask and default handling of
/// SIGINT, SIGTERM, SIGPIPE, SIGCHLD (a `stream` command sees SIGPIPE as in a shell pipeline). Returns 0 and
/// sets `*pid`, or an errno value.
/// pipe2(2) with O_CLOEXEC (pipe2 needs _GNU_SOURCE, which Swift's Glibc module does not define).
int mrsh_pipe_cloexec(int fds[2]);

int mrsh_spawn_piped(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd,
                     int in_fd, int out_fd, int err_fd);

/// `mrsh_spawn_piped`, and with `own_group` non-zero the child leads a process group of its own (a terminal's
/// Ctrl-C does not reach it; killing the group ends its descendants too).
int mrsh_spawn_piped_group(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd,
                           int in_fd, int out_fd, int err_fd, int own_group);

/// Classifies the 64 bytes at `p` (the word scanner's step): returns a mask whose bit j is set when
/// byte j is an ASCII letter; `*high` gets the same kind of mask of bytes >= 0x80 and `*newlines` of
/// '\n' bytes. SSE2 (every x86-64), a portable loop elsewhere; inlined into Swift callers.
static inline uint64_t mrsh_letter_mask64(const void *p, uint64_t *high, uint64_t *newlines) {
#if defined(__SSE2__)
    const __m128i fold = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a'), z = _mm_set1_epi8(25);
    const __m128i nl = _mm_set1_epi8('\n');
    uint64_t letters = 0, h = 0, n = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)((const char *)p + 16 * k));
        /* (v | 0x20) - 'a' <= 25 unsigned: a letter (A-Z folds onto a-z, nothing else does). */
        __m128i d = _mm_sub_epi8(_mm_or_si128(v, fold), a);
        letters |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, z), d)) << (16 * k);
        h |= (uint64_t)(uint32_t)_mm_movemask_epi8(v) << (16 * k);
        n |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * k);
    }
    *high = h;
    *newlines = n;
    return letters;
#else
    const unsigned char *b = (const unsigned char *)p;
    uint64_t letters = 0, h = 0, n = 0;
    for (int j = 0; j < 64; j++) {
        unsigned char c = b[j];
        letters |= (uint64_t)((unsigned char)((c | 0x20) - 'a') < 26) << j;
        h |= (uint64_t)(c >= 0x80) << j;
        n |= (uint64_t)(c == '\n') << j;
    }
    *high = h;
    *newlines = n;
    return letters;
#endif
}

/// A read prefetch hint (the combiner's batched lookups); inlined into Swift callers.
static inline void mrsh_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Names the calling thread for /proc and debuggers (at most 15 bytes are kept); 0 on success.
int mrsh_set_current_thread_name(const char *name);

/// Writes `v` as Swift's `Double.description` does (shortest digits that read back the same; exponential
/// below 1e-4 and above 2^54; "inf", "-inf", "nan") into `out` (at least 32 bytes), without allocating;
/// returns the length. The expression evaluator's number-to-text conversion on the hot path.
int mrsh_format_double(double v, char *out);

#endif
