#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "CWireSystem.h"

void cws_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}

#include <sys/socket.h>

int cws_accept_nonblocking(int listen_fd) {
    return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

#include <malloc.h>

void cws_limit_malloc_arenas(int count) {
    mallopt(M_ARENA_MAX, count);
}

void cws_fix_malloc_mmap_threshold(int bytes) {
    mallopt(M_MMAP_THRESHOLD, bytes);
}

int cws_timer_create(void) {
    return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
}

int cws_timer_arm(int fd, long long micros, long long interval_micros) {
    struct itimerspec value = {0};
    value.it_value.tv_sec = micros / 1000000;
    value.it_value.tv_nsec = (micros % 1000000) * 1000;
    value.it_interval.tv_sec = interval_micros / 1000000;
    value.it_interval.tv_nsec = (interval_micros % 1000000) * 1000;
    return timerfd_settime(fd, 0, &value, NULL);
}
