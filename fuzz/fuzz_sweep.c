/* fuzz_sweep.c - libFuzzer target: the sweep-file parser, ls_sweep_load()
 * with no overrides (see fuzz.h).  An [mnist] section checks that its data
 * directory exists, relative to the current directory. */
#include "fuzz.h"

#include "lstmsweep/sweep.h"

int fuzz_sweep_file(const char *path)
{
    ls_sweep *s = NULL;
    ls_err err = {0};
    int rc = ls_sweep_load(&s, path, NULL, 0, &err);

    fuzz_check_rc("ls_sweep_load", rc, &err, path);
    if (rc == 0) {
        if (!s || s->njobs == 0 || !s->jobs || !s->name[0] || !s->results[0])
            FUZZ_DIE("ls_sweep_load: success without jobs or names");
        for (size_t i = 0; i < s->njobs; i++)
            if (ls_job_validate(&s->jobs[i], &err) != 0)
                FUZZ_DIE("ls_sweep_load: job %zu is invalid: %s", i, err.msg);
    } else if (s) {
        FUZZ_DIE("ls_sweep_load: failed but set *out");
    }
    ls_sweep_destroy(s);
    return rc;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096];

    fuzz_sweep_file(fuzz_write("fuzz.ini", data, size, buf, sizeof buf));
    return 0;
}
#endif
