/*  sentiment - a small lexicon-based sentiment expert: the JSON logic of
    hearth-expert-sentiment, apart from main() so tests can call it.
*/
#ifndef HEARTH_SENTIMENT_H_INCLUDED
#define HEARTH_SENTIMENT_H_INCLUDED

#include <stddef.h>

typedef struct {
    int positive;               /* words found in the positive lexicon      */
    int negative;               /* words found in the negative lexicon      */
    int words;                  /* all words                                */
} hearth_sentiment_counts_t;

/*  Counts the words of text (len bytes, need not be NUL-terminated).
    A word is a run of letters and apostrophes, compared case-insensitively;
    bytes of UTF-8 sequences count as letters, so accented words are words
    (they are just not in the English lexicon).                              */
void hearth_sentiment_count (const char *text, size_t len,
                             hearth_sentiment_counts_t *counts);

/*  "positive", "negative" or "neutral" (static string).                    */
const char *hearth_sentiment_label (const hearth_sentiment_counts_t *counts);

/*  (positive - negative) / max (1, words).                                 */
double hearth_sentiment_score (const hearth_sentiment_counts_t *counts);

/*  Reads the JSON document in body, adds opinions.<service> = {label,
    score, positive, negative, words} and writes the document as compact
    JSON into *out (malloc'd, caller frees; not NUL-terminated in *out_size
    but NUL-terminated in memory). Returns 200, or 400 with a reason in
    error (always NUL-terminated) and *out NULL.                             */
int hearth_sentiment_apply (const char *service, const void *body, size_t size,
                            char **out, size_t *out_size, char *error,
                            size_t error_size);

#endif
