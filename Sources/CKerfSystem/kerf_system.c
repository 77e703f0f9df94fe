#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include "kerf_system.h"

int kerf_rename_exchange(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

const char *kerf_errno_name(int error) {
    return strerrorname_np(error);
}

int kerf_heap_trim(void) {
    return malloc_trim(0);
}
