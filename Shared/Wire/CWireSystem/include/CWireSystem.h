// Linux system headers that Glibc's Swift module does not export (epoll,
// eventfd, timerfd) and one GNU extension behind a plain function.
#ifndef CWIRESYSTEM_H
#define CWIRESYSTEM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <netinet/tcp.h>

/// Names the calling thread (at most 15 characters are kept), for top and gdb.
void cws_set_thread_name(const char *name);

/// accept4 with SOCK_NONBLOCK and SOCK_CLOEXEC (a GNU extension).
int cws_accept_nonblocking(int listen_fd);

/// Caps glibc malloc arenas (M_ARENA_MAX).
void cws_limit_malloc_arenas(int count);

/// Fixes glibc's mmap threshold (M_MMAP_THRESHOLD), which also stops its dynamic growth.
void cws_fix_malloc_mmap_threshold(int bytes);

/// A monotonic, close-on-exec timerfd, or -1 with errno set.
int cws_timer_create(void);

/// Arms `fd` to expire in `micros` microseconds, then every `interval_micros`
/// (0: once); `micros` 0 disarms it.
int cws_timer_arm(int fd, long long micros, long long interval_micros);

#endif
