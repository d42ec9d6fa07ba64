/*  hearth_test - the tiny assertion kit of the unit tests.

    Each check prints file:line, the expression and, for comparisons, both
    values, then counts a failure and goes on: one run shows every broken
    case, not just the first. main() returns HEARTH_TEST_RESULT, so ctest
    sees a non-zero exit when anything failed.
*/
#ifndef HEARTH_TEST_H_INCLUDED
#define HEARTH_TEST_H_INCLUDED

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int hearth_test_failures = 0;
static int hearth_test_checks = 0;

#define HEARTH_TEST_FAIL_AT(...) \
    do { \
        fprintf (stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
        hearth_test_failures++; \
    } while (0)

/*  CHECK (expr): expr must be true.                                        */
#define CHECK(expr) \
    do { \
        hearth_test_checks++; \
        if (!(expr)) \
            HEARTH_TEST_FAIL_AT ("%s", #expr); \
    } while (0)

/*  CHECK_INT (a, b): two integers must be equal; both values are printed. */
#define CHECK_INT(a, b) \
    do { \
        long long va_ = (long long) (a), vb_ = (long long) (b); \
        hearth_test_checks++; \
        if (va_ != vb_) \
            HEARTH_TEST_FAIL_AT ("%s == %s (%lld != %lld)", #a, #b, va_, vb_); \
    } while (0)

/*  CHECK_STR (a, b): two NUL-terminated strings must be equal.             */
#define CHECK_STR(a, b) \
    do { \
        const char *sa_ = (a), *sb_ = (b); \
        hearth_test_checks++; \
        if (!sa_ || !sb_ || strcmp (sa_, sb_) != 0) \
            HEARTH_TEST_FAIL_AT ("%s == %s (\"%s\" != \"%s\")", #a, #b, \
                                 sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
    } while (0)

/*  CHECK_MEM (a, na, b, nb): two byte ranges must be equal.                */
#define CHECK_MEM(a, na, b, nb) \
    do { \
        size_t na_ = (size_t) (na), nb_ = (size_t) (nb); \
        hearth_test_checks++; \
        if (na_ != nb_ || (na_ && memcmp ((a), (b), na_) != 0)) \
            HEARTH_TEST_FAIL_AT ("%s[%zu] == %s[%zu] (bytes differ)", \
                                 #a, na_, #b, nb_); \
    } while (0)

/*  Runs one test function, naming it so a failure is easy to place.       */
#define RUN(test) \
    do { \
        int before_ = hearth_test_failures; \
        test (); \
        printf ("%s %s\n", hearth_test_failures == before_ ? "ok  " : "FAIL", \
                #test); \
    } while (0)

#define HEARTH_TEST_RESULT \
    (printf ("%d checks, %d failed\n", hearth_test_checks, \
             hearth_test_failures), hearth_test_failures ? 1 : 0)

#endif
