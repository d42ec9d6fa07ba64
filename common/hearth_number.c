/*  hearth_number - whole decimal numbers in a range. */
#include "hearth_number.h"

#include <errno.h>
#include <stdlib.h>

int
hearth_number_parse (const char *text, long long min, long long max,
                     long long *value)
{
    if (!text)
        return -1;
    char *end;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (end == text || *end)
        return -1;
    if (errno == ERANGE || number < min || number > max)
        return -2;
    *value = number;
    return 0;
}

int
hearth_number_int (const char *text, int min, int max, int *value)
{
    long long number;
    int rc = hearth_number_parse (text, min, max, &number);
    if (rc == 0)
        *value = (int) number;
    return rc;
}
