/* drain.c - the stop flag and its signal policy; see include/lstmsweep/drain.h. */
#include "lstmsweep/drain.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static atomic_int stop_flag;
static atomic_int int_or_term_seen; /* SIGINT/SIGTERM count; SIGUSR1 never counts */

atomic_int *ls_drain_flag(void)
{
    return &stop_flag;
}

static void on_signal(int sig)
{
    if (sig != SIGUSR1 && atomic_fetch_add(&int_or_term_seen, 1) > 0) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    atomic_store(&stop_flag, 1);
}

int ls_drain_install(ls_err *err)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGUSR1};
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return ls_err_set(err, LS_EINVAL, "sigaction(%d): %s", sigs[i],
                              strerror(errno));
    return 0;
}

void ls_drain_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}
