/* check_durable.c - replacing files atomically and writing buffers whole:
 * the new content or the old, never a mix and never a temporary file left
 * behind; short writes, EINTR and the 1 GiB cap per write(2); the
 * checksummed encoder against zlib's own crc32. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"
#include "lstmsweep/durable.h"

static char dir[64], path[128];

static void setup(void)
{
    ls_test_mkdtemp(dir, sizeof dir, "durable");
    snprintf(path, sizeof path, "%s/file", dir);
}

static void teardown(void)
{
    chmod(dir, 0700);
    ls_test_rmtree(dir);
    ls_write_test_hook(NULL, 0);
}

static int entries(const char *d)
{
    DIR *h = opendir(d);
    struct dirent *e;
    int n = 0;
    ck_assert(h);
    while ((e = readdir(h)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(h);
    return n;
}

static void expect_content(const char *p, const char *want)
{
    char buf[256] = {0};
    FILE *f = fopen(p, "r");
    ck_assert_msg(f, "%s missing", p);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    ck_assert_msg(n == strlen(want) && !memcmp(buf, want, n), "%s holds '%s'", p, buf);
}

static int write_text(int fd, void *ctx, ls_err *err)
{
    return ls_write_all(fd, ctx, strlen(ctx), err);
}

/* Writes half its text, then fails as a full disk would. */
static int write_half_then_fail(int fd, void *ctx, ls_err *err)
{
    ls_write_all(fd, ctx, strlen(ctx) / 2, err);
    return ls_err_set(err, LS_EIO, "cannot write: disk full (simulated)");
}

START_TEST(test_durable_replace_creates_and_replaces)
{
    ls_err err = {0};
    ck_assert_msg(ls_file_replace(path, write_text, "first", &err) == 0, "%s", err.msg);
    expect_content(path, "first");
    ck_assert_msg(ls_file_replace(path, write_text, "second, longer", &err) == 0, "%s", err.msg);
    expect_content(path, "second, longer");
    ck_assert_int_eq(entries(dir), 1); /* no temporary file left */
}
END_TEST

START_TEST(test_durable_failed_write_keeps_old_file)
{
    ls_err err = {0};
    ck_assert(ls_file_replace(path, write_text, "old content", &err) == 0);
    ck_assert_int_eq(ls_file_replace(path, write_half_then_fail, "new content", &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "disk full"), "%s", err.msg);
    expect_content(path, "old content");
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

START_TEST(test_durable_unwritable_directory)
{
    ls_err err = {0};
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/file", dir);
    ck_assert_int_eq(ls_file_replace(missing, write_text, "x", &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, missing) && strstr(err.msg, "No such file"), "%s", err.msg);

    /* the rename fails: a directory stands in the way */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert(mkdir(sub, 0700) == 0);
    ck_assert_int_eq(ls_file_replace(sub, write_text, "x", &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, sub) && strstr(err.msg, "rename"), "%s", err.msg);
    ck_assert_int_eq(entries(dir), 1);
    ck_assert(rmdir(sub) == 0);
}
END_TEST

/* A read-only directory: the temporary file cannot be made, the old file
 * stays.  Root writes anyway, so the attempt runs in a child that drops
 * to the user nobody when it is root. */
START_TEST(test_durable_readonly_directory)
{
    ls_err err = {0};
    int status = -1;

    ck_assert(ls_file_replace(path, write_text, "old content", &err) == 0);
    ck_assert(chmod(dir, 0555) == 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        int rc = ls_file_replace(path, write_text, "new", &err);
        _exit(rc == LS_EIO && strstr(err.msg, path) && strstr(err.msg, "ermission") ? 0 : 1);
    }
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert(chmod(dir, 0700) == 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    expect_content(path, "old content");
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

/* ---- ls_write_all through a fake write(2) ---- */

static unsigned char sink[4096];
static size_t sunk, calls, biggest, eintrs;

static ssize_t fake_write(int fd, const void *buf, size_t len)
{
    (void)fd;
    calls++;
    biggest = len > biggest ? len : biggest;
    if (calls % 4 == 0) {
        eintrs++;
        errno = EINTR;
        return -1;
    }
    size_t n = calls % 2 ? (len + 1) / 2 : len; /* every other one short */
    ck_assert(sunk + n <= sizeof sink);
    memcpy(sink + sunk, buf, n);
    sunk += n;
    return (ssize_t)n;
}

START_TEST(test_durable_write_all_short_writes_eintr_and_chunks)
{
    unsigned char src[3000];
    ls_err err = {0};
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 37 + 11);
    ls_write_test_hook(fake_write, 7);
    ck_assert_msg(ls_write_all(1, src, sizeof src, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(sunk, sizeof src);
    ck_assert(memcmp(sink, src, sizeof src) == 0);
    ck_assert_uint_le(biggest, 7);
    ck_assert_uint_gt(eintrs, 0);
}
END_TEST

static size_t total;

static ssize_t counting_write(int fd, const void *buf, size_t len)
{
    (void)fd, (void)buf; /* the pages are never touched */
    calls++;
    biggest = len > biggest ? len : biggest;
    total += len;
    return (ssize_t)len;
}

/* 5 GiB of address space (no memory: never touched) in 1 GiB writes, the
 * real default cap; one write(2) would have stopped near 2 GiB. */
START_TEST(test_durable_write_all_caps_each_write_at_1_gib)
{
    size_t len = (size_t)5 << 30;
    void *big = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ls_err err = {0};
    ck_assert(big != MAP_FAILED);
    ls_write_test_hook(counting_write, 0);
    ck_assert(ls_write_all(1, big, len, &err) == 0);
    ck_assert_uint_eq(total, len);
    ck_assert_uint_eq(biggest, (size_t)1 << 30);
    ck_assert_uint_eq(calls, 5);
    munmap(big, len);
}
END_TEST

START_TEST(test_durable_write_all_disk_full)
{
    int fd = open("/dev/full", O_WRONLY);
    ls_err err = {0};
    ck_assert(fd >= 0);
    ck_assert_int_eq(ls_write_all(fd, "abc", 3, &err), LS_EIO);
    ck_assert_msg(strstr(err.msg, "No space"), "%s", err.msg);
    close(fd);
}
END_TEST

/* ---- ls_out ---- */

static int write_encoded(int fd, void *ctx, ls_err *err)
{
    ls_out o;
    float f[30000];
    for (int i = 0; i < 30000; i++)
        f[i] = (float)i / 7.0f;
    ls_out_init(&o, fd, err);
    ls_out_bytes(&o, "HEAD", 4);
    ls_out_u32(&o, 0x01020304u);
    ls_out_u64(&o, 0x1122334455667788ull);
    ls_out_f32s(&o, f, 30000); /* 120 KB: many buffers */
    return ls_out_finish(&o);
}

START_TEST(test_durable_out_encodes_little_endian_with_zlib_crc)
{
    ls_err err = {0};
    unsigned char *b;
    size_t n;
    ck_assert_msg(ls_file_replace(path, write_encoded, NULL, &err) == 0, "%s", err.msg);
    ck_assert(ls_file_read(path, &b, &n, &err) == 0);
    ck_assert_uint_eq(n, 4 + 4 + 8 + 4 * 30000 + 4);
    ck_assert(!memcmp(b, "HEAD\x04\x03\x02\x01\x88\x77\x66\x55\x44\x33\x22\x11", 16));
    float f;
    memcpy(&f, b + 16 + 4 * 29999, 4); /* host order is little-endian here */
    ck_assert(f == 29999.0f / 7.0f);
    uLong crc = crc32(0L, b, (uInt)(n - 4));
    ck_assert_uint_eq(b[n - 4] | b[n - 3] << 8 | b[n - 2] << 16 | (uint32_t)b[n - 1] << 24, crc);
    ck_assert_uint_eq(ls_crc32(b, n - 4), crc);
    ls_free(b);
}
END_TEST

START_TEST(test_durable_read_missing_file)
{
    ls_err err = {0};
    unsigned char *b = (unsigned char *)1;
    size_t n;
    ck_assert_int_eq(ls_file_read(path, &b, &n, &err), LS_EIO);
    ck_assert(b == NULL);
    ck_assert_msg(strstr(err.msg, path), "%s", err.msg);
}
END_TEST

Suite *durable_suite(void)
{
    Suite *s = suite_create("durable");
    TCase *core = tcase_create("Core");
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_checked_fixture(lim, setup, teardown);
    ls_add_tests(core, LS_TESTS(test_durable_replace_creates_and_replaces,
                                test_durable_out_encodes_little_endian_with_zlib_crc));
    ls_add_tests(lim, LS_TESTS(test_durable_failed_write_keeps_old_file,
                               test_durable_unwritable_directory,
                               test_durable_readonly_directory,
                               test_durable_write_all_short_writes_eintr_and_chunks,
                               test_durable_write_all_caps_each_write_at_1_gib,
                               test_durable_read_missing_file));
    LS_ADD_TEST_IF(lim, test_durable_write_all_disk_full, access("/dev/full", W_OK) == 0,
                   "no writable /dev/full");
    suite_add_tcase(s, core);
    suite_add_tcase(s, lim);
    return s;
}

LS_CHECK_MAIN(durable_suite)
