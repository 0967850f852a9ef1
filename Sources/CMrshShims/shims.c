#define _GNU_SOURCE
#include "CMrshShims.h"
#include <string.h>
#include <signal.h>
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
