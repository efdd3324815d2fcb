/* check_alloc.c - the allocator: alignment, zero fill, realloc, the
 * live-bytes and peak counters (also under threads), fault injection. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check_util.h"
#include "lstmsweep/alloc.h"

static int aligned(const void *p)
{
    return ((uintptr_t)p & 63) == 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

START_TEST(test_alloc_aligned_zeroed_and_counted)
{
    size_t start = ls_alloc_live_bytes();
    unsigned char *a = ls_alloc(1000), *b = ls_alloc(0), *c = ls_alloc(3);
    ck_assert(a && b && c && aligned(a) && aligned(b) && aligned(c));
    ck_assert(all_zero(a, 1024)); /* rounded up to whole cache lines */
    ck_assert_uint_eq(ls_alloc_live_bytes(), start + 1003);
    memset(a, 0xff, 1000);
    ls_free(a);
    ls_free(b);
    ls_free(c);
    ls_free(NULL);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
}
END_TEST

START_TEST(test_alloc_realloc_keeps_data_zeroes_the_rest)
{
    size_t start = ls_alloc_live_bytes();
    unsigned char *p = ls_alloc(100);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)(i + 1);
    /* grow past glibc's mmap threshold, where realloc moves pages */
    for (size_t n = 1000; n <= ((size_t)16 << 20); n *= 8) {
        p = ls_realloc(p, n);
        ck_assert(p && aligned(p));
        for (int i = 0; i < 100; i++)
            ck_assert_int_eq(p[i], i + 1);
        ck_assert(all_zero(p + 100, n - 100));
        ck_assert_uint_eq(ls_alloc_live_bytes(), start + n);
    }
    p = ls_realloc(p, 50); /* shrink */
    ck_assert(p && aligned(p));
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(p[i], i + 1);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start + 50);
    ls_free(p);
    char *s = ls_realloc(NULL, 10);
    ck_assert(s && all_zero((unsigned char *)s, 10));
    ls_free(s);
    s = ls_strdup("twelve chars");
    ck_assert_str_eq(s, "twelve chars");
    ck_assert_uint_eq(ls_alloc_live_bytes(), start + 13);
    ls_free(s);
    ck_assert_ptr_null(ls_strdup(NULL));
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
}
END_TEST

START_TEST(test_alloc_peak)
{
    ls_alloc_peak_reset();
    size_t start = ls_alloc_live_bytes();
    ck_assert_uint_eq(ls_alloc_peak_bytes(), start);
    void *a = ls_alloc(5000), *b = ls_alloc(7000);
    ls_free(a);
    void *c = ls_alloc(100);
    ck_assert_uint_eq(ls_alloc_peak_bytes(), start + 12000);
    ls_free(b);
    ls_free(c);
    ck_assert_uint_eq(ls_alloc_peak_bytes(), start + 12000);
    ls_alloc_peak_reset();
    ck_assert_uint_eq(ls_alloc_peak_bytes(), start);
}
END_TEST

static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        void *p = ls_alloc((size_t)(i % 97) * 13);
        p = ls_realloc(p, (size_t)(i % 31) * 7 + 1);
        ls_free(p);
    }
    return NULL;
}

START_TEST(test_alloc_counter_is_thread_safe)
{
    size_t start = ls_alloc_live_bytes();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert(pthread_create(&t[i], NULL, churn, NULL) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
}
END_TEST

START_TEST(test_alloc_fault_injection)
{
    size_t start = ls_alloc_live_bytes();
    void *p = ls_alloc(10);
    ls_alloc_fail_at(2);
    void *a = ls_alloc(10);
    ck_assert_ptr_null(ls_realloc(p, 20)); /* the second: fails, p intact */
    void *b = ls_strdup("x");
    ls_alloc_fail_at(0);
    ck_assert(a && b);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start + 10 + 10 + 2);
    ls_free(a);
    ls_free(b);
    ls_free(p);
    ck_assert_uint_eq(ls_alloc_live_bytes(), start);
    ck_assert_ptr_null(ls_alloc(SIZE_MAX - 10));
}
END_TEST

Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *core = tcase_create("Core");
    TCase *lim = tcase_create("Limits");
    ls_add_tests(core, LS_TESTS(test_alloc_aligned_zeroed_and_counted,
                                test_alloc_realloc_keeps_data_zeroes_the_rest, test_alloc_peak,
                                test_alloc_counter_is_thread_safe));
    tcase_add_test(lim, test_alloc_fault_injection);
    suite_add_tcase(s, core);
    suite_add_tcase(s, lim);
    return s;
}

LS_CHECK_MAIN(alloc_suite)
