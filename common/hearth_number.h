/*  hearth_number - the one parser of whole decimal numbers in a range, for
    command-line options and mesh.yml values alike.

    It reads as strtoll does in base 10 (leading blanks and a sign are
    allowed, nothing may follow), so every program that used its own
    strtol loop accepts exactly what it did before.
*/
#ifndef HEARTH_NUMBER_H_INCLUDED
#define HEARTH_NUMBER_H_INCLUDED

/*  Parses text as a whole decimal number in [min, max] into *value.
    Returns 0; -1 if text is not a whole decimal number (NULL, empty, other
    characters); -2 if it is one but outside [min, max] (also when it does
    not fit a long long). *value is untouched unless 0 is returned.          */
int hearth_number_parse (const char *text, long long min, long long max,
                         long long *value);

/*  The same for an int.                                                    */
int hearth_number_int (const char *text, int min, int max, int *value);

#endif
