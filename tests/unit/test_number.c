/*  Unit tests of hearth_number: the one parser of whole decimal numbers in
    a range, behind every numeric option and mesh.yml value.               */
#include <limits.h>
#include "hearth_number.h"
#include "hearth_test.h"

static void
test_accepts_whole_numbers_in_range (void)
{
    long long value = 0;
    CHECK_INT (hearth_number_parse ("0", 0, 10, &value), 0);
    CHECK_INT (value, 0);
    CHECK_INT (hearth_number_parse ("10", 0, 10, &value), 0);
    CHECK_INT (value, 10);
    CHECK_INT (hearth_number_parse ("-5", -10, 10, &value), 0);
    CHECK_INT (value, -5);
    CHECK_INT (hearth_number_parse ("1099511627776", 0, 1LL << 40, &value), 0);
    CHECK_INT (value, 1LL << 40);
    CHECK_INT (hearth_number_parse ("9223372036854775807", 0, LLONG_MAX,
                                    &value), 0);
    CHECK_INT (value, LLONG_MAX);
    /*  As strtoll reads it, so no program accepts less than it did.        */
    CHECK_INT (hearth_number_parse ("+7", 0, 10, &value), 0);
    CHECK_INT (value, 7);
    CHECK_INT (hearth_number_parse (" 8", 0, 10, &value), 0);
    CHECK_INT (value, 8);
    CHECK_INT (hearth_number_parse ("010", 0, 100, &value), 0);
    CHECK_INT (value, 10);              /* decimal, not octal               */
}

static void
test_refuses_what_is_not_a_number (void)
{
    long long value = 42;
    CHECK_INT (hearth_number_parse (NULL, 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse (" ", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("x", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("5x", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("5 ", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("1.5", 0, 10, &value), -1);
    CHECK_INT (hearth_number_parse ("0x10", 0, 100, &value), -1);
    CHECK_INT (hearth_number_parse ("5_000", 0, 10000, &value), -1);
    CHECK_INT (hearth_number_parse ("-", 0, 10, &value), -1);
    CHECK_INT (value, 42);              /* untouched on failure             */
}

static void
test_refuses_numbers_out_of_range (void)
{
    long long value = 42;
    CHECK_INT (hearth_number_parse ("11", 0, 10, &value), -2);
    CHECK_INT (hearth_number_parse ("-1", 0, 10, &value), -2);
    CHECK_INT (hearth_number_parse ("9", 10, 3600000, &value), -2);
    CHECK_INT (hearth_number_parse ("9223372036854775808", 0, LLONG_MAX,
                                    &value), -2);
    CHECK_INT (hearth_number_parse ("-99999999999999999999", LLONG_MIN, 0,
                                    &value), -2);
    CHECK_INT (value, 42);
}

static void
test_int (void)
{
    int value = 7;
    CHECK_INT (hearth_number_int ("2147483647", 0, INT_MAX, &value), 0);
    CHECK_INT (value, INT_MAX);
    CHECK_INT (hearth_number_int ("2147483648", 0, INT_MAX, &value), -2);
    CHECK_INT (hearth_number_int ("-2147483648", INT_MIN, 0, &value), 0);
    CHECK_INT (value, INT_MIN);
    CHECK_INT (hearth_number_int ("abc", 0, INT_MAX, &value), -1);
    CHECK_INT (value, INT_MIN);
}

int
main (void)
{
    RUN (test_accepts_whole_numbers_in_range);
    RUN (test_refuses_what_is_not_a_number);
    RUN (test_refuses_numbers_out_of_range);
    RUN (test_int);
    return HEARTH_TEST_RESULT;
}
