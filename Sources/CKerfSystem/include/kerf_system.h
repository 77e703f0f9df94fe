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

/* An in-memory file that can be sealed (memfd_create with MFD_CLOEXEC, MFD_ALLOW_SEALING and,
   where the kernel knows it, MFD_NOEXEC_SEAL). Returns the descriptor, or -1 with errno set. */
int kerf_memfd_create(const char *name);

/* Seals an in-memory file against writes, growing and shrinking (fcntl F_ADD_SEALS, which
   glibc declares only under _GNU_SOURCE). Returns 0, or -1 with errno set. */
int kerf_seal_contents(int fd);

/* TCP_CORK (<netinet/tcp.h> defines it only under _DEFAULT_SOURCE, which Swift's Glibc module
   does not define). */
int kerf_tcp_cork(void);

/// SO_REUSEPORT (several sockets listening on one port, the kernel sharing connections out).
int kerf_so_reuseport(void);

#endif
