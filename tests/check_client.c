/* check_client.c - the server's clients without a server: the SSE parser
 * (sse.h), --set written into a sweep's text (sweepedit.h), the state
 * directory (statedir.h) and how the client finds the server (client.h).
 * tests/client.sh runs the commands against a real server. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/client.h"
#include "lstmsweep/sse.h"
#include "lstmsweep/statedir.h"
#include "lstmsweep/sweep.h"
#include "lstmsweep/sweepedit.h"

/* ---- sse ------------------------------------------------------------------------ */

typedef struct seen {
    char log[2048];
    int n, stop_at;
} seen;

static int record(void *ctx, const char *id, const char *type, const char *data)
{
    seen *s = ctx;
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof s->log - len, "[%s|%s|%s]", id, type, data);
    return ++s->n == s->stop_at ? 7 : 0;
}

static void feed_bytewise(ls_sse *p, const char *text)
{
    for (size_t i = 0; text[i]; i++)
        ck_assert_int_eq(ls_sse_feed(p, text + i, 1), 0);
}

static const char *const stream_text =
    ": keepalive\n"
    "id: 1\nevent: job_started\ndata: {\"sweep\":\"a\"}\n\n"
    "event: lost\ndata: {\"missed\":3}\n\n"          /* no id: the last one stays */
    "id: 2\r\nevent: epoch\r\ndata: x\r\ndata:y\r\n\r\n"
    "id: 3\revent: none\r\r"                          /* no data: not delivered */
    "data: plain\n\n";

START_TEST(test_sse_events_whole_and_bytewise)
{
    const char *want = "[1|job_started|{\"sweep\":\"a\"}][1|lost|{\"missed\":3}][2|epoch|x\ny]"
                       "[3|message|plain]";
    seen a = {.n = 0}, b = {.n = 0};
    ls_sse p;

    ls_sse_init(&p, record, &a);
    ck_assert_int_eq(ls_sse_feed(&p, stream_text, strlen(stream_text)), 0);
    ck_assert_str_eq(a.log, want);
    ls_sse_init(&p, record, &b);
    feed_bytewise(&p, stream_text);
    ck_assert_str_eq(b.log, want);
}
END_TEST

START_TEST(test_sse_callback_stops)
{
    seen a = {.stop_at = 1};
    ls_sse p;

    ls_sse_init(&p, record, &a);
    ck_assert_int_eq(ls_sse_feed(&p, stream_text, strlen(stream_text)), 7);
    ck_assert_int_eq(a.n, 1);
}
END_TEST

START_TEST(test_sse_long_line_dropped)
{
    seen a = {.n = 0};
    ls_sse p;
    char *big = ls_alloc(3 * LS_SSE_LINE_MAX);

    memset(big, 'x', 3 * LS_SSE_LINE_MAX - 1);
    memcpy(big, "data: ", 6);
    ls_sse_init(&p, record, &a);
    ls_sse_feed(&p, big, strlen(big));
    ls_sse_feed(&p, "\ndata: ok\n\n", 11);
    ck_assert_str_eq(a.log, "[|message|ok]");
    ls_free(big);
}
END_TEST

/* ---- sweepedit ------------------------------------------------------------------ */

static const char *const sweep_text =
    "; a comment\n"
    "[sweep]\n"
    "name = e1\n"
    "seeds = 1, 2\n"
    "\n"
    "[bitcount]\n"
    "bits = 8\n"
    "train-size = 100\n"
    "hidden = 4, 8   ; inline\n"
    "# trailing comment\n";

START_TEST(test_sweepedit_replace_add)
{
    const char *sets[] = {"bitcount.train_size=200", "bitcount.epochs=3", "sweep.seeds=7",
                          "bitcount.epochs=4"};
    ls_sweep_edit e;
    ls_err err = {0};

    ck_assert_int_eq(ls_sweep_edit_apply(&e, sweep_text, sets, 4, &err), 0);
    ck_assert_str_eq(e.text, "; a comment\n[sweep]\nname = e1\nseeds = 7\n\n[bitcount]\n"
                             "bits = 8\ntrain_size = 200\nhidden = 4, 8   ; inline\n"
                             "epochs = 4\n# trailing comment\n");
    ck_assert_int_eq(e.nlines, 11);
    ck_assert_int_eq(e.origin[3], 3);
    ck_assert_int_eq(e.origin[4], -3);        /* sweep.seeds=7 */
    ck_assert_int_eq(e.origin[8], -1);
    ck_assert_int_eq(e.origin[10], -4);       /* the later epochs won */
    ck_assert_int_eq(e.origin[11], 10);
    ls_sweep_edit_free(&e);
}
END_TEST

/* The edited text gives the jobs that ls_sweep_load_text gives with the
 * same overrides: the edit means what --set means to `run`. */
START_TEST(test_sweepedit_same_jobs_as_run)
{
    const char *sets[] = {"bitcount.hidden=2,3,5", "bitcount.lr=0.01", "sweep.seeds=3"};
    ls_sweep *a = NULL, *b = NULL;
    ls_sweep_edit e;
    ls_err err = {0};

    ck_assert_int_eq(ls_sweep_edit_apply(&e, sweep_text, sets, 3, &err), 0);
    ck_assert_msg(!ls_sweep_load_text(&a, "x", e.text, 0, NULL, 0, &err), "%s", err.msg);
    ck_assert_msg(!ls_sweep_load_text(&b, "x", sweep_text, 0, sets, 3, &err), "%s", err.msg);
    ck_assert_uint_eq(a->njobs, 3);
    ck_assert_uint_eq(a->njobs, b->njobs);
    for (size_t i = 0; i < a->njobs; i++)
        ck_assert_mem_eq(&a->jobs[i], &b->jobs[i], sizeof a->jobs[i]);
    ls_sweep_destroy(a);
    ls_sweep_destroy(b);
    ls_sweep_edit_free(&e);
}
END_TEST

START_TEST(test_sweepedit_adds_sweep_section)
{
    const char *sets[] = {"sweep.name=n2"};
    ls_sweep_edit e;
    ls_err err = {0};

    ck_assert_int_eq(ls_sweep_edit_apply(&e, "[bitcount]\nbits = 8", sets, 1, &err), 0);
    ck_assert_str_eq(e.text, "[bitcount]\nbits = 8\n[sweep]\nname = n2\n");
    ck_assert_int_eq(e.origin[3], 0);
    ck_assert_int_eq(e.origin[4], -1);
    ls_sweep_edit_free(&e);
}
END_TEST

START_TEST(test_sweepedit_messages)
{
    const char *sets[] = {"bitcount.epochs=x"};
    ls_sweep_edit e;
    ls_err err = {0};
    char *m;

    ck_assert_int_eq(ls_sweep_edit_apply(&e, sweep_text, sets, 1, &err), 0);
    m = ls_sweep_edit_message(&e, "<submitted>:9: [bitcount] hidden: bad", "<submitted>", "f.ini");
    ck_assert_str_eq(m, "f.ini:9: [bitcount] hidden: bad");
    ls_free(m);
    m = ls_sweep_edit_message(&e, "<submitted>:10: [bitcount] epochs: 'x'", "<submitted>", "f.ini");
    ck_assert_str_eq(m, "--set bitcount.epochs=x: [bitcount] epochs: 'x'");
    ls_free(m);
    m = ls_sweep_edit_message(&e, "<submitted>: [mnist] data: far", "<submitted>", "f.ini");
    ck_assert_str_eq(m, "f.ini: [mnist] data: far");
    ls_free(m);
    m = ls_sweep_edit_message(&e, "sweep 'x' is done", "<submitted>", "f.ini");
    ck_assert_str_eq(m, "sweep 'x' is done");
    ls_free(m);
    ls_sweep_edit_free(&e);
}
END_TEST

START_TEST(test_sweepedit_refusals)
{
    const char *bad[] = {"bitcount", "bitcount.hidden", "hidden=3", "cifar.hidden=3",
                         "mnist.hidden=3", "bitcount.hidden=3\nepochs=9"};
    const char *why[] = {"expected section.key=value", "expected section.key=value",
                         "expected section.key=value", "unknown section 'cifar'",
                         "no such section", "a line break"};
    ls_sweep_edit e;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ls_err err = {0};
        ck_assert_int_eq(ls_sweep_edit_apply(&e, sweep_text, &bad[i], 1, &err), LS_EINVAL);
        ck_assert_msg(strstr(err.msg, why[i]) && !strncmp(err.msg, "--set ", 6), "%s", err.msg);
        ck_assert_ptr_null(e.text);
    }
}
END_TEST

START_TEST(test_sweepedit_out_of_memory)
{
    const char *sets[] = {"bitcount.epochs=3", "sweep.x=1"};
    int failed = 0, passed = 0;

    for (long n = 1; n < 200 && !passed; n++) {
        ls_sweep_edit e;
        ls_err err = {0};
        ls_alloc_fail_at(n);
        int rc = ls_sweep_edit_apply(&e, "[bitcount]\nbits = 8\n", sets, 2, &err);
        ls_alloc_fail_at(0);
        if (rc) {
            ck_assert_int_eq(rc, LS_ENOMEM);
            failed++;
        } else {
            passed = 1;
            ls_sweep_edit_free(&e);
        }
    }
    ck_assert(failed > 3 && passed);
    ck_assert_uint_eq(ls_alloc_live_bytes(), 0);
}
END_TEST

/* ---- statedir and discovery ----------------------------------------------------- */

START_TEST(test_statedir_default)
{
    char buf[256];
    ls_err err = {0};

    setenv("XDG_STATE_HOME", "/x/state", 1);
    ck_assert_int_eq(ls_state_dir_default(buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "/x/state/lstmsweep");
    setenv("XDG_STATE_HOME", "relative", 1);          /* the spec: ignore it */
    setenv("HOME", "/home/u", 1);
    ck_assert_int_eq(ls_state_dir_default(buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "/home/u/.local/state/lstmsweep");
    unsetenv("XDG_STATE_HOME");
    ck_assert_int_eq(ls_state_dir_default(buf, 8, &err), LS_EINVAL);
}
END_TEST

START_TEST(test_statedir_url_for)
{
    char buf[256];
    ls_err err = {0};

    ck_assert_int_eq(ls_state_url_for("127.0.0.1:0", 41234, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:41234");
    ck_assert_int_eq(ls_state_url_for(NULL, 8470, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:8470");
    ck_assert_int_eq(ls_state_url_for("0.0.0.0:80", 80, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:80");
    ck_assert_int_eq(ls_state_url_for("[::]:81", 81, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "http://[::1]:81");
    ck_assert_int_eq(ls_state_url_for("unix:/run/ls.sock", 0, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "unix:/run/ls.sock");
    ck_assert_int_eq(ls_state_url_for("unix:rel.sock", 0, buf, sizeof buf, &err), 0);
    ck_assert(buf[5] == '/' && strstr(buf, "/rel.sock"));
}
END_TEST

START_TEST(test_statedir_url_file)
{
    char dir[64], buf[256];
    ls_err err = {0};

    ls_test_mkdtemp(dir, sizeof dir, "statedir");
    ck_assert_int_eq(ls_state_url_read(dir, buf, sizeof buf, &err), LS_EIO);
    ck_assert_int_eq(ls_state_url_write(dir, "http://127.0.0.1:5", &err), 0);
    ck_assert_int_eq(ls_state_url_read(dir, buf, sizeof buf, &err), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:5");
    ls_state_url_remove(dir, "http://127.0.0.1:6");   /* not ours: kept */
    ck_assert_int_eq(ls_state_url_read(dir, buf, sizeof buf, &err), 0);
    ls_state_url_remove(dir, "http://127.0.0.1:5");
    ck_assert_int_eq(ls_state_url_read(dir, buf, sizeof buf, &err), LS_EIO);
    ck_assert_int_eq(ls_state_url_write(dir, "ftp://x", &err), 0);
    ck_assert_int_eq(ls_state_url_read(dir, buf, sizeof buf, &err), LS_EFORMAT);
    snprintf(buf, sizeof buf, "%s/server.url", dir);
    unlink(buf);
    rmdir(dir);
}
END_TEST

START_TEST(test_client_discovery_order)
{
    char dir[64];
    ls_client *c;
    ls_err err = {0};

    ls_test_mkdtemp(dir, sizeof dir, "discover");
    unsetenv("LSTMSWEEP_SERVER");
    setenv("XDG_STATE_HOME", dir, 1);
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){0}, &err), 0);
    ck_assert_str_eq(ls_client_url(c), "http://127.0.0.1:8470");
    ck_assert_str_eq(ls_client_found_by(c), "the default address");
    ls_client_destroy(c);

    ls_state_url_write(dir, "unix:/tmp/x.sock", &err);     /* dir as a state dir */
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){.state_dir = dir}, &err), 0);
    ck_assert_str_eq(ls_client_url(c), "unix:/tmp/x.sock");
    ls_client_destroy(c);

    setenv("LSTMSWEEP_SERVER", "http://h:1", 1);
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){0}, &err), 0);
    ck_assert_str_eq(ls_client_url(c), "http://h:1");
    ck_assert_str_eq(ls_client_found_by(c), "LSTMSWEEP_SERVER");
    ls_client_destroy(c);
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){.server = "http://h:2/"}, &err), 0);
    ck_assert_str_eq(ls_client_found_by(c), "--server");
    ls_client_destroy(c);
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){.server = "h:2"}, &err), LS_EINVAL);
    unsetenv("LSTMSWEEP_SERVER");
    unsetenv("XDG_STATE_HOME");
    char path[128];
    snprintf(path, sizeof path, "%s/server.url", dir);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_client_no_server)
{
    ls_client *c;
    ls_client_reply r;
    ls_err err = {0};

    /* port 1 on loopback: nothing listens there unprivileged */
    ck_assert_int_eq(ls_client_create(&c, &(ls_client_opts){.server = "http://127.0.0.1:1"},
                                      &err), 0);
    ck_assert_int_eq(ls_client_request(c, "GET", "/healthz", NULL, NULL, 0, &r, &err), LS_EIO);
    ck_assert(strlen(err.msg) > 0);
    ls_client_destroy(c);
}
END_TEST

START_TEST(test_client_escape)
{
    char *e = ls_client_escape("a b/c?d%é");
    ck_assert_str_eq(e, "a%20b%2Fc%3Fd%25%C3%A9");
    ls_free(e);
}
END_TEST

Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    ls_add_case(s, "Core", NULL, NULL,
                LS_TESTS(test_sse_events_whole_and_bytewise, test_sse_callback_stops,
                         test_sweepedit_replace_add, test_sweepedit_same_jobs_as_run,
                         test_sweepedit_adds_sweep_section, test_sweepedit_messages,
                         test_statedir_default, test_statedir_url_for, test_statedir_url_file,
                         test_client_discovery_order, test_client_escape));
    ls_add_case(s, "Limits", NULL, NULL,
                LS_TESTS(test_sse_long_line_dropped, test_sweepedit_refusals,
                         test_sweepedit_out_of_memory, test_client_no_server));
    return s;
}

LS_CHECK_MAIN(client_suite)
