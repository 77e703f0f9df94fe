#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

int kerf_sealed_copy(const char *name, const void *bytes, long count, const char **failed_call) {
    *failed_call = "memfd_create";
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
    /* Kernels before 6.3 do not know MFD_NOEXEC_SEAL. */
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    *failed_call = "write";
    const char *next = bytes;
    long left = count;
    while (left > 0) {
        ssize_t written = write(fd, next, (size_t)left);
        if (written < 0 && errno == EINTR) continue;
        if (written == 0) errno = EIO;
        if (written <= 0) goto fail;
        next += written;
        left -= written;
    }
    *failed_call = "fcntl";
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) goto fail;
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int kerf_tcp_cork(void) {
    return TCP_CORK;
}
