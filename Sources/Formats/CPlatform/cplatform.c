#define _GNU_SOURCE
#include <fcntl.h>
#include "include/cplatform.h"

#ifdef __linux__
#include <linux/falloc.h>
#endif

int cplatform_reserve(int fd, int64_t count) {
#ifdef __linux__
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)count);
#else
    (void)fd;
    (void)count;
    return -1;
#endif
}
