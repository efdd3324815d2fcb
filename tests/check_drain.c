/* check_drain.c - the stop flag's signal policy (drain.h): what drains,
 * what kills, and that a thread blocked in flock(2) when a signal arrives
 * is restarted instead of failing with EINTR.  Each case runs in a forked
 * child, since it installs handlers and raises signals. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/drain.h"
#include "lstmsweep/results.h"

/* Run fn in a child; return its wait status. */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    int status = 0;
    ck_assert(pid >= 0);
    if (pid == 0)
        _exit(fn());
    ck_assert(waitpid(pid, &status, 0) == pid);
    return status;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Slurm's warning, then scancel's SIGTERM: both drain, neither kills. */
static int usr1_then_term(void)
{
    if (ls_drain_install(NULL))
        return 10;
    raise(SIGUSR1);
    raise(SIGUSR1);
    if (atomic_load(ls_drain_flag()) != 1)
        return 11;
    raise(SIGTERM);
    return atomic_load(ls_drain_flag()) == 1 ? 0 : 12;
}

START_TEST(test_drain_usr1_then_term_drains)
{
    int st = in_child(usr1_then_term);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "child %s %d", WIFSIGNALED(st) ? "killed by signal" : "exited",
                  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}
END_TEST

/* SIGINT drains; a SIGTERM after it kills at once. */
static int int_then_term(void)
{
    if (ls_drain_install(NULL))
        return 10;
    raise(SIGINT);
    if (atomic_load(ls_drain_flag()) != 1)
        return 11;
    raise(SIGTERM);
    return 12; /* not reached: killed */
}

START_TEST(test_drain_second_signal_kills)
{
    int st = in_child(int_then_term);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
}
END_TEST

static int int_then_int(void)
{
    if (ls_drain_install(NULL))
        return 10;
    raise(SIGINT);
    raise(SIGINT);
    return 12;
}

START_TEST(test_drain_second_sigint_kills)
{
    int st = in_child(int_then_int);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "status %#x", st);
}
END_TEST

/* ---- a worker blocked in flock when the signal comes ---- */

static char csv_path[64];
static int append_rc = -99;

static void *appender(void *arg)
{
    ls_err err = {0};
    (void)arg;
    append_rc = ls_csv_append_line(csv_path, "a,b", "1,2\n", 1, &err);
    if (append_rc)
        fprintf(stderr, "append: %s\n", err.msg);
    return NULL;
}

static int flock_interrupted(void)
{
    pthread_t t;
    int fd, ok;

    snprintf(csv_path, sizeof csv_path, "/tmp/ls_drain_%d.csv", (int)getpid());
    fd = open(csv_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "a,b\n", 4) != 4 || flock(fd, LOCK_EX) != 0)
        return 10;
    if (ls_drain_install(NULL))
        return 11;
    if (pthread_create(&t, NULL, appender, NULL) != 0)
        return 12;
    nap_ms(300);                  /* the appender now waits for the lock */
    pthread_kill(t, SIGUSR1);     /* the signal lands on that thread */
    nap_ms(300);
    flock(fd, LOCK_UN);
    pthread_join(t, NULL);
    close(fd);
    ok = append_rc == 0 && atomic_load(ls_drain_flag()) == 1;
    unlink(csv_path);
    return ok ? 0 : 13;
}

START_TEST(test_drain_flock_restarts)
{
    int st = in_child(flock_interrupted);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}
END_TEST

START_TEST(test_drain_block_signals)
{
    sigset_t cur;
    ls_drain_block_signals();
    ck_assert(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
    ck_assert(sigismember(&cur, SIGINT) == 1);
    ck_assert(sigismember(&cur, SIGTERM) == 1);
    ck_assert(sigismember(&cur, SIGUSR1) == 1);
}
END_TEST

Suite *drain_suite(void)
{
    Suite *s = suite_create("drain");
    ls_add_case(s, "Core", NULL, NULL,
                LS_TESTS(test_drain_usr1_then_term_drains, test_drain_second_signal_kills,
                         test_drain_second_sigint_kills, test_drain_flock_restarts,
                         test_drain_block_signals));
    return s;
}

LS_CHECK_MAIN(drain_suite)
