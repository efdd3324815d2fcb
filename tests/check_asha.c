/* check_asha.c - ASHA's decisions (asha.h) on hand-made rung tables: the
 * rung epochs, the promotion rule as results arrive, ties, NaN, fewer
 * units than eta, close-out on a finite set, and determinism: random
 * completion orders always end with every unit final once, and replaying
 * a search's results in their order gives the same events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "lstmsweep/asha.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/search.h"

enum { MAXU = 64 };

typedef struct search {
    ls_asha *a;
    char keys[MAXU][8];
} search;

static void make(search *s, int n, const int *epochs, int nrungs, int eta)
{
    const char *k[MAXU];
    ls_err err = {0};
    ck_assert(n <= MAXU);
    for (int u = 0; u < n; u++) {
        snprintf(s->keys[u], sizeof s->keys[u], "u%02d", u);
        k[u] = s->keys[u];
    }
    ck_assert_msg(ls_asha_new(&s->a, n, k, epochs, nrungs, eta, &err) == 0, "%s", err.msg);
}

/* Feed unit u's result; the events as a string: "R0 P0" = result at rung 0,
 * promoted from rung 0; S = stopped, D = done; each "kind rung:unit". */
static const char *feed(search *s, int u, double v, double loss)
{
    static char buf[4096];
    const ls_asha_event *ev;
    ls_err err = {0};
    int n = ls_asha_result(s->a, u, v, loss, &ev, &err);
    ck_assert_msg(n >= 1, "%s", err.msg);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 1; i < n; i++) /* the first is the result itself */
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%c%d:%d", i > 1 ? " " : "",
                                "RPSD"[ev[i].kind], ev[i].rung, ev[i].unit);
    ck_assert_int_eq(ev[0].kind, LS_ASHA_EV_RESULT);
    ck_assert_int_eq(ev[0].unit, u);
    return buf;
}

START_TEST(test_asha_rungs)
{
    int e[LS_ASHA_MAX_RUNGS];
    ck_assert_int_eq(ls_asha_rungs(5, 60, 3, e, LS_ASHA_MAX_RUNGS), 4);
    ck_assert_int_eq(e[0], 5);
    ck_assert_int_eq(e[1], 15);
    ck_assert_int_eq(e[2], 45);
    ck_assert_int_eq(e[3], 60); /* not a power of eta: the last rung is max_epochs */
    ck_assert_int_eq(ls_asha_rungs(1, 27, 3, e, LS_ASHA_MAX_RUNGS), 4);
    ck_assert_int_eq(e[3], 27);
    ck_assert_int_eq(ls_asha_rungs(2, 16, 2, e, LS_ASHA_MAX_RUNGS), 4);
    ck_assert_int_eq(e[3], 16);
    ck_assert_int_eq(ls_asha_rungs(10, 10, 3, e, LS_ASHA_MAX_RUNGS), 1);
    ck_assert_int_eq(e[0], 10);
    ck_assert_int_eq(ls_asha_rungs(20, 10, 3, e, LS_ASHA_MAX_RUNGS), 1);
    ck_assert_int_eq(e[0], 10);
    ck_assert_int_eq(ls_asha_rungs(0, 10, 3, e, LS_ASHA_MAX_RUNGS), -1);
    ck_assert_int_eq(ls_asha_rungs(1, 10, 1, e, LS_ASHA_MAX_RUNGS), -1);
    ck_assert_int_eq(ls_asha_rungs(1, 1000, 2, e, 4), -1); /* cap too small */
}
END_TEST

/* Nine units, eta 3, rungs 1, 3, 9: every decision by hand. */
START_TEST(test_asha_promotion_rule_by_hand)
{
    search s;
    const int ep[] = {1, 3, 9};
    make(&s, 9, ep, 3, 3);
    ck_assert_str_eq(feed(&s, 0, 0.5, 1), "");        /* n=1: floor(1/3)=0 */
    ck_assert_str_eq(feed(&s, 1, 0.4, 1), "");
    ck_assert_str_eq(feed(&s, 2, 0.3, 1), "P0:2");    /* n=3: top 1 */
    ck_assert_int_eq(ls_asha_state_of(s.a, 2), LS_ASHA_RUNNING);
    ck_assert_int_eq(ls_asha_rung_of(s.a, 2), 1);
    ck_assert_str_eq(feed(&s, 3, 0.1, 1), "P0:3");    /* n=4: the new top, too */
    ck_assert_str_eq(feed(&s, 4, 0.9, 1), "");        /* n=5: top 1 promoted */
    ck_assert_str_eq(feed(&s, 5, 0.8, 1), "");        /* n=6: top 2 promoted */
    ck_assert_str_eq(feed(&s, 6, 0.35, 1), "");
    ck_assert_str_eq(feed(&s, 7, 0.2, 1), "P0:7");    /* n=8: u7 now 2nd */
    ck_assert_int_eq(ls_asha_state_of(s.a, 0), LS_ASHA_WAITING);
    ck_assert(!ls_asha_rung_complete(s.a, 0));
    /* The last result: top 3 all promoted already; the rung closes and
     * stops the other six, best first. */
    ck_assert_str_eq(feed(&s, 8, 0.6, 1), "S0:6 S0:1 S0:0 S0:8 S0:5 S0:4");
    ck_assert(ls_asha_rung_complete(s.a, 0));
    ck_assert_int_eq(ls_asha_state_of(s.a, 0), LS_ASHA_STOPPED);
    ck_assert_int_eq(ls_asha_rung_size(s.a, 0), 9);
    /* Rung 1: three promoted into it. */
    ck_assert_str_eq(feed(&s, 3, 0.05, 1), "");
    ck_assert_str_eq(feed(&s, 2, 0.02, 1), "");
    ck_assert(!ls_asha_finished(s.a));
    ck_assert_str_eq(feed(&s, 7, 0.3, 1), "P1:2 S1:3 S1:7");
    ck_assert_str_eq(feed(&s, 2, 0.01, 1), "D2:2");
    ck_assert(ls_asha_finished(s.a));
    ck_assert_int_eq(ls_asha_best(s.a), 2);
    ck_assert_int_eq(ls_asha_state_of(s.a, 2), LS_ASHA_DONE);
    ls_asha_free(s.a);
}
END_TEST

/* The audit fields: rank, size, cutoff. */
START_TEST(test_asha_event_fields)
{
    search s;
    const int ep[] = {2, 6};
    const ls_asha_event *ev;
    ls_err err = {0};
    make(&s, 6, ep, 2, 3);
    feed(&s, 0, 0.5, 1);
    feed(&s, 1, 0.2, 1);
    feed(&s, 2, 0.7, 1); /* n=3: promote u1 (rank 1, cutoff 0.2) */
    ck_assert_int_eq(ls_asha_result(s.a, 3, 0.1, 1, &ev, &err), 2);
    ck_assert_int_eq(ev[0].rank, 1);
    ck_assert_int_eq(ev[0].size, 4);
    ck_assert_double_eq(ev[0].cutoff, 0.1);
    ck_assert_int_eq(ev[1].kind, LS_ASHA_EV_PROMOTE);
    ck_assert_int_eq(ev[1].unit, 3);
    ck_assert_int_eq(ls_asha_result(s.a, 4, 0.6, 1, &ev, &err), 1);
    ck_assert_int_eq(ev[0].rank, 4);
    ck_assert_int_eq(ev[0].size, 5);
    ck_assert_double_eq(ev[0].cutoff, 0.1); /* floor(5/3) = 1 */
    ls_asha_free(s.a);
}
END_TEST

/* Equal values: the training loss decides, then the key. */
START_TEST(test_asha_ties)
{
    search s;
    const int ep[] = {1, 3};
    make(&s, 3, ep, 2, 3);
    feed(&s, 0, 0.1, 0.5);
    feed(&s, 1, 0.1, 0.2);
    ck_assert_str_eq(feed(&s, 2, 0.1, 0.2), "P0:1 S0:2 S0:0"); /* u01 < u02 */
    ls_asha_free(s.a);

    make(&s, 3, ep, 2, 3);
    feed(&s, 0, 0.1, NAN);                  /* a NaN loss counts as +inf */
    feed(&s, 1, 0.1, 9.0);
    ck_assert_str_eq(feed(&s, 2, 0.3, 0.1), "P0:1 S0:0 S0:2");
    ls_asha_free(s.a);
}
END_TEST

/* A diverged or failed unit (NaN) is last and never promoted, not even by
 * the close-out; if all are bad the search ends with no choice. */
START_TEST(test_asha_nan_last_never_promoted)
{
    search s;
    const int ep[] = {1, 3, 9};
    make(&s, 3, ep, 3, 3);
    ck_assert_str_eq(feed(&s, 0, NAN, NAN), "");
    ck_assert_str_eq(feed(&s, 1, INFINITY, 1), "");
    ck_assert_str_eq(feed(&s, 2, 0.9, 1), "P0:2 S0:1 S0:0"); /* bad: by loss */
    ls_asha_free(s.a);

    make(&s, 3, ep, 3, 3);
    feed(&s, 0, NAN, 1);
    feed(&s, 1, NAN, 1);
    ck_assert_str_eq(feed(&s, 2, NAN, 1), "S0:0 S0:1 S0:2");
    ck_assert(ls_asha_finished(s.a));  /* nothing promoted: rungs above are empty */
    ck_assert_int_eq(ls_asha_best(s.a), -1);
    ls_asha_free(s.a);
}
END_TEST

/* Fewer units than eta: ASHA's rule never promotes (floor(n/eta) = 0), the
 * close-out carries the best one to max_epochs. */
START_TEST(test_asha_fewer_than_eta)
{
    search s;
    const int ep[] = {5, 15, 45, 60};
    make(&s, 2, ep, 4, 3);
    ck_assert_str_eq(feed(&s, 1, 0.3, 1), "");
    ck_assert_str_eq(feed(&s, 0, 0.2, 1), "P0:0 S0:1");
    ck_assert_str_eq(feed(&s, 0, 0.1, 1), "P1:0");
    ck_assert_str_eq(feed(&s, 0, 0.1, 1), "P2:0");
    ck_assert_str_eq(feed(&s, 0, 0.05, 1), "D3:0");
    ck_assert(ls_asha_finished(s.a));
    ck_assert_int_eq(ls_asha_best(s.a), 0);
    ls_asha_free(s.a);
}
END_TEST

START_TEST(test_asha_errors)
{
    search s;
    const int ep[] = {1, 3}, bad[] = {3, 3};
    const ls_asha_event *ev;
    ls_asha *a;
    ls_err err = {0};
    const char *k[] = {"a"};
    ck_assert_int_eq(ls_asha_new(&a, 1, k, bad, 2, 3, &err), LS_EINVAL);
    ck_assert_int_eq(ls_asha_new(&a, 1, k, ep, 2, 1, &err), LS_EINVAL);
    ck_assert_int_eq(ls_asha_new(&a, 0, k, ep, 2, 3, &err), LS_EINVAL);
    make(&s, 2, ep, 2, 3);
    feed(&s, 0, 0.1, 1);
    ck_assert_int_eq(ls_asha_result(s.a, 0, 0.1, 1, &ev, &err), LS_EINVAL); /* waiting */
    ck_assert_ptr_nonnull(strstr(err.msg, "u00"));
    ck_assert_int_eq(ls_asha_result(s.a, 7, 0.1, 1, &ev, &err), LS_EINVAL);
    ck_assert_int_eq(ls_asha_start(s.a, 0), LS_EINVAL);
    ck_assert_int_eq(ls_asha_start(s.a, 1), 0);
    ck_assert_int_eq(ls_asha_start(s.a, 1), LS_EINVAL);
    ls_asha_free(s.a);
}
END_TEST

/* A unit's value at a rung: a fixed function of (unit, rung), so that the
 * order of completion is the only thing a run varies. */
static double value_of(int u, int r) { return fmod(u * 0.37 + 0.11, 1.0) / (1 + r) + (u == 5 ? NAN : 0); }

/* Drive a search to its end, completing a random running unit each time
 * (4 "workers"); the results in order into log[]. */
static int drive(search *s, int n, uint64_t seed, int *log_u, double *log_v)
{
    ls_rng rng;
    int nlog = 0, next_new = 0;
    ls_rng_seed(&rng, seed, 0);
    while (!ls_asha_finished(s->a)) {
        int running[MAXU], nr = 0;
        for (int u = 0; u < n; u++)
            if (ls_asha_state_of(s->a, u) == LS_ASHA_RUNNING)
                running[nr++] = u;
        while (nr < 4 && next_new < n) { /* a free worker starts a new unit */
            ck_assert_int_eq(ls_asha_start(s->a, next_new), 0);
            running[nr++] = next_new++;
        }
        ck_assert_msg(nr > 0, "search stuck: nothing running, not finished");
        int u = running[ls_rng_below(&rng, (uint64_t)nr)];
        double v = value_of(u, ls_asha_rung_of(s->a, u));
        const ls_asha_event *ev;
        ls_err err = {0};
        ck_assert_int_ge(ls_asha_result(s->a, u, v, 1.0, &ev, &err), 1);
        log_u[nlog] = u;
        log_v[nlog++] = v;
        ck_assert_int_lt(nlog, 1000);
    }
    return nlog;
}

START_TEST(test_asha_every_order_ends_with_every_unit_once)
{
    const int ep[] = {1, 3, 9, 20};
    int log_u[1000];
    double log_v[1000];
    for (uint64_t seed = 1; seed <= 50; seed++) {
        search s;
        int n = 5 + (int)(seed % 23);
        make(&s, n, ep, 4, 3);
        drive(&s, n, seed, log_u, log_v);
        int final = 0;
        for (int u = 0; u < n; u++) {
            ls_asha_state st = ls_asha_state_of(s.a, u);
            final += st == LS_ASHA_STOPPED || st == LS_ASHA_DONE;
            ck_assert(u != 5 || st == LS_ASHA_STOPPED); /* the NaN unit */
        }
        ck_assert_int_eq(final, n);
        for (int r = 0; r + 1 < 4; r++) { /* each rung promoted at least its share */
            int size = ls_asha_rung_size(s.a, r), valid = size - (r == 0 && n > 5), want = size / 3;
            if (want < 1 && valid > 0)
                want = 1;
            ck_assert_int_ge(ls_asha_rung_size(s.a, r + 1), want > valid ? valid : want);
        }
        ck_assert_int_ge(ls_asha_rung_size(s.a, 3), 1);
        ls_asha_free(s.a);
    }
}
END_TEST

/* Replaying the recorded results in their order makes the same events. */
START_TEST(test_asha_replay_is_deterministic)
{
    const int ep[] = {2, 6, 18};
    int log_u[1000];
    double log_v[1000];
    search s, t;
    make(&s, 20, ep, 3, 3);
    int nlog = drive(&s, 20, 77, log_u, log_v);
    make(&t, 20, ep, 3, 3);
    search s2;
    make(&s2, 20, ep, 3, 3);
    for (int i = 0; i < nlog; i++) {
        char a[4096];
        snprintf(a, sizeof a, "%s", feed(&s2, log_u[i], log_v[i], 1.0));
        ck_assert_str_eq(feed(&t, log_u[i], log_v[i], 1.0), a);
    }
    ck_assert(ls_asha_finished(t.a));
    ck_assert_int_eq(ls_asha_best(t.a), ls_asha_best(s.a));
    for (int u = 0; u < 20; u++)
        ck_assert_int_eq(ls_asha_state_of(t.a, u), ls_asha_state_of(s.a, u));
    ls_asha_free(s.a);
    ls_asha_free(s2.a);
    ls_asha_free(t.a);
}
END_TEST

START_TEST(test_asha_mean)
{
    const double v[] = {0.1, 0.3}, w[] = {0.1, NAN}, x[] = {INFINITY, 0.1};
    ck_assert_double_eq_tol(ls_asha_mean(v, 2), 0.2, 1e-15);
    ck_assert(isnan(ls_asha_mean(w, 2)));
    ck_assert(isnan(ls_asha_mean(x, 2)));
    ck_assert(isnan(ls_asha_mean(v, 0)));
}
END_TEST

/* The search's tag: a grid job's id stays; the same search gives the same
 * tag and ids, a search with another eta or another set of jobs others;
 * the tag ends the canonical text. */
START_TEST(test_search_tag_identity)
{
    ls_job jobs[4], again[4], fewer[3], other[4];
    ls_search s;
    char before[LS_JOB_ID_LEN], id[LS_JOB_ID_LEN], text[1024];
    ls_err err = {0};
    ls_search_defaults(&s);
    s.method = LS_SEARCH_ASHA;
    for (int i = 0; i < 4; i++) {
        ls_job_defaults(&jobs[i], LS_TASK_BITCOUNT);
        jobs[i].hidden = 4 << i;
    }
    ls_job_id(&jobs[0], before);
    memcpy(again, jobs, sizeof jobs);
    memcpy(fewer, jobs, sizeof fewer);
    memcpy(other, jobs, sizeof jobs);
    ck_assert_int_eq(ls_search_tag(&s, jobs, 4, NULL, &err), 0);
    ck_assert_int_eq(ls_search_tag(&s, again, 4, NULL, &err), 0);
    ck_assert_int_eq(ls_search_tag(&s, fewer, 3, NULL, &err), 0);
    s.eta = 4;
    ck_assert_int_eq(ls_search_tag(&s, other, 4, NULL, &err), 0);
    ck_assert_int_eq((int)strlen(jobs[0].search), 16);
    ck_assert_str_eq(jobs[3].search, jobs[0].search);
    ck_assert_str_eq(again[0].search, jobs[0].search);
    ck_assert_str_ne(fewer[0].search, jobs[0].search);
    ck_assert_str_ne(other[0].search, jobs[0].search);
    ls_job_id(&jobs[0], id);
    ck_assert_str_ne(id, before);
    ls_job_canonical(&jobs[0], text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, " search="));
    ck_assert_str_eq(strstr(text, " search=") + 8, jobs[0].search);
    jobs[0].search[0] = '\0';
    ls_job_id(&jobs[0], id);
    ck_assert_str_eq(id, before);
}
END_TEST

Suite *asha_suite(void)
{
    Suite *s = suite_create("asha");
    ls_add_case(s, "Core", NULL, NULL,
                LS_TESTS(test_asha_rungs, test_asha_promotion_rule_by_hand,
                         test_asha_event_fields, test_asha_ties,
                         test_asha_nan_last_never_promoted, test_asha_fewer_than_eta,
                         test_asha_errors, test_asha_every_order_ends_with_every_unit_once,
                         test_asha_replay_is_deterministic, test_asha_mean,
                         test_search_tag_identity));
    return s;
}

LS_CHECK_MAIN(asha_suite)
