/*  client_test.h - tiny assertions for the client tests that print the
    error NAME on failure (as nng's NUTS does), and exit non-zero.
*/
#ifndef CLIENT_TEST_H_INCLUDED
#define CLIENT_TEST_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>
#include "hearth/hearth.h"

#define TEST_FAIL_AT(...) do { \
    fprintf (stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); exit (1); \
} while (0)

/*  expr must return HEARTH_OK.                                             */
#define TEST_PASS(expr) do { int rc_ = (expr); \
    if (rc_ != HEARTH_OK) TEST_FAIL_AT ("%s returned %s (%s)", #expr, \
        hearth_error_name (rc_), hearth_strerror (rc_)); } while (0)

/*  expr must return exactly the error err.                                 */
#define TEST_ERR(expr, err) do { int rc_ = (expr); \
    if (rc_ != (err)) TEST_FAIL_AT ("%s returned %s, expected %s", #expr, \
        hearth_error_name (rc_), hearth_error_name (err)); } while (0)

#define TEST_TRUE(cond) do { if (!(cond)) \
    TEST_FAIL_AT ("%s is false", #cond); } while (0)

#define TEST_EQ(a, b) do { long long a_ = (long long) (a), b_ = (long long) (b); \
    if (a_ != b_) TEST_FAIL_AT ("%s == %lld, expected %s == %lld", #a, a_, \
        #b, b_); } while (0)

#define TEST_RUN(fn) do { fprintf (stderr, "-- %s\n", #fn); fn (); } while (0)

#endif
