// Operating-system calls the Swift Glibc module does not expose (GNU extensions).
#ifndef CPLATFORM_H
#define CPLATFORM_H

#include <stdint.h>

/// Allocates the blocks of bytes [0, count) of `fd` without changing its size (Linux fallocate with
/// FALLOC_FL_KEEP_SIZE). 0 on success; −1 where the file system or OS cannot (nothing is emulated: glibc's
/// posix_fallocate would write every block instead).
int cplatform_reserve(int fd, int64_t count);

#endif
