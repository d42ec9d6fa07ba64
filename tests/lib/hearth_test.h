/*  hearth_test - the one assertion kit of Hearth's C tests.

    A failing check prints file:line, the expression and, where it helps,
    both values or the error's name (as nng's nuts.h does), counts the
    failure and goes on: one run shows every broken case, not just the
    first. main() returns HEARTH_TEST_RESULT, which is non-zero when any
    check failed; as a safety net the program also exits 1 at the end if
    a check failed and main forgot to say so.

    CHECK_* go on after a failure. REQUIRE_* are for the steps the rest of
    a test stands on (a NULL object, a frame that never came, a wait that
    timed out): they count the failure, print the tally and end the
    program with exit 1 at once, since going on would only crash or hang.

    Checks may run in any thread (handler and fake-broker threads do):
    the counters are atomic and live in hearth_test.c, one pair for the
    whole program however many files use the kit. Link the hearth_test
    library (tests/CMakeLists.txt). CHECK_PASS, CHECK_ERR and REQUIRE_PASS
    name Hearth errors: a file that uses them includes hearth/hearth.h.
*/
#ifndef HEARTH_TEST_H_INCLUDED
#define HEARTH_TEST_H_INCLUDED

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern atomic_int hearth_test_checks;
extern atomic_int hearth_test_failures;

/*  Prints "file:line: FAIL: " and the printf-style message, counts one
    failure.                                                                */
void hearth_test_fail (const char *file, int line, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
/*  Prints the tally and ends the program with exit 1 (for REQUIRE_*).    */
void hearth_test_stop (void) __attribute__ ((noreturn));
/*  Runs one test function and prints "ok" or "FAIL" with its name.        */
void hearth_test_run (const char *name, void (*test) (void));
/*  Prints "N checks, M failed"; returns 0 if none failed, else 1.         */
int hearth_test_result (void);

#define HEARTH_TEST_FAIL_AT(...) hearth_test_fail (__FILE__, __LINE__, __VA_ARGS__)

/*  CHECK (expr) or CHECK (expr, format, ...): expr must be true; the
    optional printf-style message (up to 14 arguments) says what went
    wrong. HEARTH_TEST_PICK_ counts the arguments to choose the form, so
    messages keep the compiler's format checks.                             */
#define CHECK(...) \
    HEARTH_TEST_PICK_ (__VA_ARGS__, \
        HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, \
        HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, \
        HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, \
        HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, \
        HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, HEARTH_TEST_CHECK_MSG_, \
        HEARTH_TEST_CHECK_1_, -) (__VA_ARGS__)
#define HEARTH_TEST_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, \
                          _13, _14, _15, _16, form, ...) form
#define HEARTH_TEST_CHECK_1_(expr) \
    do { \
        hearth_test_checks++; \
        if (!(expr)) \
            HEARTH_TEST_FAIL_AT ("%s", #expr); \
    } while (0)
#define HEARTH_TEST_CHECK_MSG_(expr, ...) \
    do { \
        hearth_test_checks++; \
        if (!(expr)) { \
            char msg_[512]; \
            snprintf (msg_, sizeof msg_, __VA_ARGS__); \
            HEARTH_TEST_FAIL_AT ("%s: %s", #expr, msg_); \
        } \
    } while (0)

/*  CHECK_INT (a, b): two integers must be equal; both values are printed. */
#define CHECK_INT(a, b) \
    do { \
        long long va_ = (long long) (a), vb_ = (long long) (b); \
        hearth_test_checks++; \
        if (va_ != vb_) \
            HEARTH_TEST_FAIL_AT ("%s == %s (%lld != %lld)", #a, #b, va_, vb_); \
    } while (0)

/*  CHECK_STR (a, b): two NUL-terminated strings must be equal (a NULL on
    either side fails and prints as "(null)").                             */
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

/*  CHECK_ERR (expr, err): expr must return exactly the Hearth error err;
    both are printed by name.                                               */
#define CHECK_ERR(expr, err) \
    do { \
        int rc_ = (expr), want_ = (err); \
        hearth_test_checks++; \
        if (rc_ != want_) \
            HEARTH_TEST_FAIL_AT ("%s returned %s, expected %s", #expr, \
                                 hearth_error_name (rc_), \
                                 hearth_error_name (want_)); \
    } while (0)

/*  CHECK_PASS (expr): expr must return HEARTH_OK; a failure prints the
    error's name and text.                                                  */
#define CHECK_PASS(expr) \
    do { \
        int rc_ = (expr); \
        hearth_test_checks++; \
        if (rc_ != HEARTH_OK) \
            HEARTH_TEST_FAIL_AT ("%s returned %s (%s)", #expr, \
                                 hearth_error_name (rc_), \
                                 hearth_strerror (rc_)); \
    } while (0)

/*  REQUIRE* : as the CHECK of the same name, but a failure ends the
    program (see above).                                                    */
#define HEARTH_TEST_REQUIRED(check) \
    do { \
        int failures_ = hearth_test_failures; \
        check; \
        if (hearth_test_failures != failures_) \
            hearth_test_stop (); \
    } while (0)
#define REQUIRE(...)        HEARTH_TEST_REQUIRED (CHECK (__VA_ARGS__))
#define REQUIRE_INT(a, b)   HEARTH_TEST_REQUIRED (CHECK_INT (a, b))
#define REQUIRE_PASS(expr)  HEARTH_TEST_REQUIRED (CHECK_PASS (expr))

/*  RUN (test): runs test (), naming it so a failure is easy to place.     */
#define RUN(test) hearth_test_run (#test, test)

#define HEARTH_TEST_RESULT hearth_test_result ()

#endif
