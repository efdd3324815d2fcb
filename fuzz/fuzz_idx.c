/* fuzz_idx.c - libFuzzer target: the IDX reader, ls_idx_read() asking for
 * 1 and for 3 dimensions (labels and images), on plain or gzip input (zlib
 * detects gzip from the content; see fuzz.h). */
#include "fuzz.h"

#include "lstmsweep/idx.h"

static int read_one(const char *path, int ndims)
{
    ls_idx idx;
    ls_err err = {0};
    int rc = ls_idx_read(&idx, path, ndims, &err);
    size_t size = 1;

    fuzz_check_rc("ls_idx_read", rc, &err, path);
    if (rc == 0) {
        if (idx.ndims != ndims || !idx.data)
            FUZZ_DIE("ls_idx_read: success with ndims %d, data %p", idx.ndims,
                     (void *)idx.data);
        for (int d = 0; d < ndims; d++)
            size *= idx.dims[d];
        if (size != idx.size)
            FUZZ_DIE("ls_idx_read: size %zu, dims give %zu", idx.size, size);
        /* Touch every byte: ASan finds a short buffer. */
        unsigned sum = 0;
        for (size_t i = 0; i < idx.size; i++)
            sum += idx.data[i];
        (void)sum;
    } else if (idx.data) {
        FUZZ_DIE("ls_idx_read: failed but kept its data");
    }
    ls_idx_free(&idx);
    return rc;
}

int fuzz_idx_file(const char *path)
{
    int rc1 = read_one(path, 1), rc3 = read_one(path, 3);
    return rc1 == 0 || rc3 == 0 ? 0 : rc1;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096];

    fuzz_idx_file(fuzz_write("input-idx", data, size, buf, sizeof buf));
    return 0;
}
#endif
