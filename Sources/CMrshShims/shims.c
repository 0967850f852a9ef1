#define _GNU_SOURCE
#include "CMrshShims.h"
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

const void *mrsh_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

const void *mrsh_memrchr(const void *s, int c, size_t n) {
#ifdef __linux__
    return memrchr(s, c, n);
#else
    const unsigned char *p = (const unsigned char *)s + n;
    while (p != (const unsigned char *)s) { if (*--p == (unsigned char)c) return p; }
    return NULL;
#endif
}

int mrsh_set_parent_death_signal(void) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, SIGKILL);
#else
    return -1;
#endif
}

#if defined(__x86_64__)
/// The AVX2 loop of `mrsh_find`: 32 positions at a time (only called where the CPU has AVX2).
__attribute__((target("avx2")))
static const void *mrsh_find_avx2(const unsigned char *h, size_t len, const unsigned char *n, size_t k) {
    const __m256i first = _mm256_set1_epi8((char)n[0]);
    const __m256i last = _mm256_set1_epi8((char)n[k - 1]);
    size_t i = 0;
    for (; i + (k - 1) + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + k - 1));
        unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last)));
        while (mask != 0) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (memcmp(h + i + bit + 1, n + 1, k - 2) == 0) return h + i + bit;
            mask &= mask - 1;
        }
    }
    return memmem(h + i, len - i, n, k);
}
#endif

#if defined(__x86_64__)
/// The AVX2 loop of `mrsh_count_byte`: per-byte counters in a vector (a compare yields -1 per match),
/// summed with SAD before they can overflow (255 rounds).
__attribute__((target("avx2")))
static size_t mrsh_count_byte_avx2(const unsigned char *s, size_t n, unsigned char c, size_t *done) {
    const __m256i needle = _mm256_set1_epi8((char)c);
    const __m256i zero = _mm256_setzero_si256();
    __m256i total = zero;
    size_t i = 0;
    while (i + 32 <= n) {
        __m256i counts = zero;
        size_t rounds = 0;
        for (; rounds < 255 && i + 32 <= n; rounds++, i += 32) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(s + i));
            counts = _mm256_sub_epi8(counts, _mm256_cmpeq_epi8(bytes, needle));
        }
        total = _mm256_add_epi64(total, _mm256_sad_epu8(counts, zero));
    }
    *done = i;
    return (size_t)_mm256_extract_epi64(total, 0) + (size_t)_mm256_extract_epi64(total, 1)
        + (size_t)_mm256_extract_epi64(total, 2) + (size_t)_mm256_extract_epi64(total, 3);
}
#endif

size_t mrsh_count_byte(const void *s, size_t n, unsigned char c) {
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0, i = 0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) count = mrsh_count_byte_avx2(p, n, c, &i);
#endif
    for (; i < n; i++) count += p[i] == c;
    return count;
}

size_t mrsh_json_string_scan(const void *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1F);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i special = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));  /* v <= 0x1F, unsigned */
        unsigned mask = (unsigned)_mm_movemask_epi8(special);
        if (mask != 0) return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i < n; i++) {
        unsigned char b = p[i];
        if (b == '"' || b == '\\' || b < 0x20) return i;
    }
    return n;
}

/// memmem for the literal grep scan: on x86-64, 16 positions at a time are tested for the needle's
/// first and last byte (SSE2), and only those candidates are compared in full; glibc's memmem is
/// several times slower on short needles made of common letters.
const void *mrsh_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
#if defined(__x86_64__)
    if (needle_len >= 2 && haystack_len >= needle_len) {
        const unsigned char *h = (const unsigned char *)haystack;
        const unsigned char *n = (const unsigned char *)needle;
        const size_t k = needle_len;
        if (__builtin_cpu_supports("avx2")) return mrsh_find_avx2(h, haystack_len, n, k);
        const __m128i first = _mm_set1_epi8((char)n[0]);
        const __m128i last = _mm_set1_epi8((char)n[k - 1]);
        size_t i = 0;
        for (; i + (k - 1) + 16 <= haystack_len; i += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(h + i + k - 1));
            unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
            while (mask != 0) {
                unsigned bit = (unsigned)__builtin_ctz(mask);
                if (memcmp(h + i + bit + 1, n + 1, k - 2) == 0) return h + i + bit;
                mask &= mask - 1;
            }
        }
        return memmem(h + i, haystack_len - i, needle, needle_len);
    }
#endif
    return memmem(haystack, haystack_len, needle, needle_len);
}

extern char **environ;

/* A spawned child starts with no signal blocked and SIGINT, SIGTERM, SIGPIPE, SIGCHLD (and, with `hup`,
   SIGHUP) at their default actions, whatever this process ignores or blocks. */
static int reset_child_signals(posix_spawnattr_t *attributes, int hup) {
    sigset_t mask, defaults;
    sigemptyset(&mask);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    if (hup) sigaddset(&defaults, SIGHUP);
    int error = posix_spawnattr_setsigmask(attributes, &mask);
    if (error == 0) error = posix_spawnattr_setsigdefault(attributes, &defaults);
    if (error == 0) error = posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    return error;
}

int mrsh_spawn_quiet(pid_t *pid, const char *path, char *const argv[]) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int error = posix_spawn_file_actions_init(&actions);
    if (error != 0) return error;
    error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return error;
    }
    if (error == 0) error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (error == 0) error = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Descriptors without FD_CLOEXEC (NIO's accepted sockets) must not leak into the child: a worker holding
    // a copy of another worker's connection would keep it open after the coordinator closes it.
    if (error == 0) error = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    if (error == 0) error = reset_child_signals(&attributes, 0);
    if (error == 0) error = posix_spawn(pid, path, &actions, &attributes, argv, environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return error;
}

int mrsh_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int mrsh_spawn_piped(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd,
                     int in_fd, int out_fd, int err_fd) {
    return mrsh_spawn_piped_group(pid, path, argv, envp, cwd, in_fd, out_fd, err_fd, 0);
}

int mrsh_spawn_piped_group(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd,
                           int in_fd, int out_fd, int err_fd, int own_group) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int error = posix_spawn_file_actions_init(&actions);
    if (error != 0) return error;
    error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return error;
    }
    /* dup2 clears FD_CLOEXEC on the copy; the originals (opened O_CLOEXEC) close at exec. */
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    if (error == 0 && cwd != NULL) error = posix_spawn_file_actions_addchdir_np(&actions, cwd);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (error == 0) error = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    if (error == 0) error = reset_child_signals(&attributes, 1);
    if (error == 0 && own_group) {
        short flags = 0;
        error = posix_spawnattr_getflags(&attributes, &flags);
        if (error == 0) error = posix_spawnattr_setpgroup(&attributes, 0);
        if (error == 0) error = posix_spawnattr_setflags(&attributes, flags | POSIX_SPAWN_SETPGROUP);
    }
    if (error == 0) error = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return error;
}

int mrsh_set_current_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

int mrsh_format_double(double v, char *out) {
    if (isnan(v)) { memcpy(out, "nan", 3); return 3; }
    if (isinf(v)) {
        if (v < 0) { memcpy(out, "-inf", 4); return 4; }
        memcpy(out, "inf", 3); return 3;
    }
    if (v == 0) {
        if (signbit(v)) { memcpy(out, "-0.0", 4); return 4; }
        memcpy(out, "0.0", 3); return 3;
    }
    /* Fast path for values with few decimals (prices, quotients by 2, 4, 10...): the first k in 1...6 for
       which m = v * 10^k is a whole m with m / 10^k == v. IEEE division rounds correctly, so that decimal
       reads back as v, and no decimal with fewer fraction digits does (it would have stopped earlier);
       between 1e-3 and 1e9 a double's ulp is far below 10^-6, so it is the only one with k digits. */
    static const double powers[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    double magnitude = fabs(v);
    if (magnitude >= 1e-3 && magnitude < 1e9) {
        for (int k = 1; k <= 6; k++) {
            double m = nearbyint(magnitude * powers[k]);
            if (m / powers[k] != magnitude) continue;
            long long whole = (long long)m;
            long long scale = (long long)powers[k];
            long long integer = whole / scale, fraction = whole % scale;
            int n = 0;
            if (v < 0) out[n++] = '-';
            char reversed[12];
            int digits = 0;
            do {
                reversed[digits++] = (char)('0' + integer % 10);
                integer /= 10;
            } while (integer > 0);
            while (digits > 0) out[n++] = reversed[--digits];
            out[n++] = '.';
            for (int i = k - 1; i >= 0; i--) {
                out[n + i] = (char)('0' + fraction % 10);
                fraction /= 10;
            }
            return n + k;
        }
    }
    /* The shortest text that reads back as v, nearest v among those (what Swift prints). glibc rounds
       correctly, so "%.*e" with P digits is the nearest P-digit decimal. Every decimal of at most 15
       significant digits reads back as the double nearest it (DBL_DIG), and 15-digit decimals are more
       than an ulp apart: when the 15-digit text reads back, the shortest one is it without its trailing
       zeros. Otherwise try 16, then 17 digits (17 always read back). Subnormals have fewer bits: search
       from 1 digit up. */
    char tmp[40];
    int precision = fabs(v) < 2.2250738585072014e-308 ? 0 : 14;
    for (; precision < 16; precision++) {
        snprintf(tmp, sizeof tmp, "%.*e", precision, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (precision == 16) snprintf(tmp, sizeof tmp, "%.*e", 16, v);
    /* tmp: [-]d[.ddd]e(+|-)XX */
    const char *p = tmp;
    int n = 0;
    if (*p == '-') { out[n++] = '-'; p++; }
    char digits[20];
    int count = 0;
    for (; *p && *p != 'e'; p++) {
        if (*p != '.') digits[count++] = *p;
    }
    while (count > 1 && digits[count - 1] == '0') count--;
    int exponent = (*p == 'e') ? atoi(p + 1) : 0;  /* v = d.ddd x 10^exponent */
    if (exponent + 1 < -3 || fabs(v) > 9007199254740992.0 /* 2^53 */) {
        out[n++] = digits[0];
        if (count > 1) {
            out[n++] = '.';
            for (int i = 1; i < count; i++) out[n++] = digits[i];
        }
        out[n++] = 'e';
        out[n++] = exponent < 0 ? '-' : '+';
        int e = exponent < 0 ? -exponent : exponent;
        if (e >= 100) { out[n++] = (char)('0' + e / 100); e %= 100; out[n++] = (char)('0' + e / 10); out[n++] = (char)('0' + e % 10); }
        else { out[n++] = (char)('0' + e / 10); out[n++] = (char)('0' + e % 10); }
        return n;
    }
    if (exponent < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -exponent - 1; i++) out[n++] = '0';
        for (int i = 0; i < count; i++) out[n++] = digits[i];
        return n;
    }
    /* exponent + 1 digits before the point */
    for (int i = 0; i <= exponent; i++) out[n++] = i < count ? digits[i] : '0';
    out[n++] = '.';
    if (count > exponent + 1) {
        for (int i = exponent + 1; i < count; i++) out[n++] = digits[i];
    } else {
        out[n++] = '0';
    }
    return n;
}
