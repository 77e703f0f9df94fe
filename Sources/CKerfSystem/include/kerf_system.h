#ifndef KERF_SYSTEM_H
#define KERF_SYSTEM_H

/* Atomically exchanges two paths (renameat2 with RENAME_EXCHANGE, Linux 3.15+). glibc declares
   renameat2 only under _GNU_SOURCE, which Swift's Glibc module does not define.
   Returns 0 or -1 with errno set. */
int kerf_rename_exchange(const char *from, const char *to);

/* The symbolic name of an errno value ("ENOENT"), or NULL when glibc knows none
   (strerrorname_np, glibc 2.32+, declared only under _GNU_SOURCE). */
const char *kerf_errno_name(int error);

/* Returns the free memory of every malloc arena to the kernel (malloc_trim(0), which Swift's
   Glibc module does not declare). Returns 1 when memory was released, 0 when none could be. */
int kerf_heap_trim(void);

/* A sealed in-memory file holding a copy of `bytes` (memfd_create with MFD_CLOEXEC and, where
   the kernel knows it, MFD_NOEXEC_SEAL; written; then sealed against writes, growing and
   shrinking), so it can be sent with sendfile and never change. Returns the descriptor, or -1
   with errno set and *failed_call naming the call that failed. */
int kerf_sealed_copy(const char *name, const void *bytes, long count, const char **failed_call);

/* TCP_CORK (<netinet/tcp.h> defines it only under _DEFAULT_SOURCE, which Swift's Glibc module
   does not define). */
int kerf_tcp_cork(void);

#endif
