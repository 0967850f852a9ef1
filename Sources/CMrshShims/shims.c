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

int mrsh_set_parent_death_signal(void) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, SIGKILL);
#else
    return -1;
#endif
}
