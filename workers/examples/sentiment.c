/*  sentiment - lexicon-based sentiment over a JSON document.
    See sentiment.h.
*/
#include "sentiment.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Lowercase. A linear scan of ~40 short words costs less than the JSON
    parse around it, and leaves the lists free of any ordering rule.        */
static const char *const s_positive[] = {
    "amazing", "awesome", "beautiful", "best", "brilliant", "calm",
    "charming", "cheerful", "clean", "delight", "delighted", "delightful",
    "easy", "enjoy", "enjoyed", "excellent", "fantastic", "fast", "fine",
    "fun", "glad", "good", "gorgeous", "great", "happy", "helpful", "like",
    "liked", "love", "loved", "lovely", "nice", "perfect", "pleasant",
    "recommend", "reliable", "satisfied", "smooth", "superb", "thanks",
    "useful", "wonderful",
};

static const char *const s_negative[] = {
    "angry", "annoying", "awful", "bad", "boring", "broke", "broken",
    "buggy", "confusing", "crash", "dirty", "disappointed", "disappointing",
    "dislike", "dreadful", "expensive", "fail", "failed", "hate", "hated",
    "horrible", "lousy", "mediocre", "noisy", "painful", "poor", "problem",
    "rude", "sad", "slow", "terrible", "ugly", "unhappy", "unreliable",
    "upset", "useless", "waste", "wasted", "worse", "worst", "wrong",
};

#define S_WORD_MAX 64           /* longer words are in no lexicon           */

static bool
s_in (const char *word, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (word, list[i]) == 0)
            return true;
    return false;
}

static bool
s_is_word_byte (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\''
        || c >= 0x80;
}

static void
s_count_word (const char *start, size_t len, hearth_sentiment_counts_t *counts)
{
    /*  Quotes around a word ('great') are not part of it.                 */
    while (len && *start == '\'') {
        start++;
        len--;
    }
    while (len && start[len - 1] == '\'')
        len--;
    if (len == 0)
        return;
    counts->words++;
    if (len >= S_WORD_MAX)
        return;
    char word[S_WORD_MAX];
    for (size_t i = 0; i < len; i++) {
        char c = start[i];
        word[i] = c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
    }
    word[len] = 0;
    if (s_in (word, s_positive, sizeof s_positive / sizeof *s_positive))
        counts->positive++;
    else
    if (s_in (word, s_negative, sizeof s_negative / sizeof *s_negative))
        counts->negative++;
}

void
hearth_sentiment_count (const char *text, size_t len,
                        hearth_sentiment_counts_t *counts)
{
    counts->positive = counts->negative = counts->words = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && !s_is_word_byte ((unsigned char) text[i]))
            i++;
        size_t start = i;
        while (i < len && s_is_word_byte ((unsigned char) text[i]))
            i++;
        if (i > start)
            s_count_word (text + start, i - start, counts);
    }
}

const char *
hearth_sentiment_label (const hearth_sentiment_counts_t *counts)
{
    return counts->positive > counts->negative ? "positive"
         : counts->negative > counts->positive ? "negative" : "neutral";
}

double
hearth_sentiment_score (const hearth_sentiment_counts_t *counts)
{
    int words = counts->words > 1 ? counts->words : 1;
    return (double) (counts->positive - counts->negative) / words;
}

/*  The opinion object, or NULL out of memory.                              */
static json_t *
s_opinion (const hearth_sentiment_counts_t *counts)
{
    return json_pack ("{s:s, s:f, s:i, s:i, s:i}",
                      "label", hearth_sentiment_label (counts),
                      "score", hearth_sentiment_score (counts),
                      "positive", counts->positive,
                      "negative", counts->negative,
                      "words", counts->words);
}

static const char *
s_type_name (const json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_ARRAY:  return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER:
        case JSON_REAL:   return "a number";
        case JSON_TRUE:
        case JSON_FALSE:  return "a boolean";
        case JSON_NULL:   return "null";
        default:          return "an object";
    }
}

/*  Adds the opinion to doc. Returns 200, or 400 with error set.            */
static int
s_annotate (json_t *doc, const char *service, char *error, size_t error_size)
{
    json_t *text = json_object_get (doc, "text");
    if (text && !json_is_string (text)) {
        snprintf (error, error_size, "\"text\" is %s, not a string",
                  s_type_name (text));
        return 400;
    }
    json_t *opinions = json_object_get (doc, "opinions");
    if (opinions && !json_is_object (opinions)) {
        snprintf (error, error_size, "\"opinions\" is %s, not an object",
                  s_type_name (opinions));
        return 400;
    }
    hearth_sentiment_counts_t counts;
    hearth_sentiment_count (text ? json_string_value (text) : "",
                            text ? json_string_length (text) : 0, &counts);
    if (!opinions) {
        opinions = json_object ();
        if (json_object_set_new (doc, "opinions", opinions))
            goto nomem;
    }
    json_t *opinion = s_opinion (&counts);
    if (!opinion || json_object_set_new (opinions, service, opinion))
        goto nomem;
    return 200;
nomem:
    snprintf (error, error_size, "out of memory");
    return 500;
}

int
hearth_sentiment_apply (const char *service, const void *body, size_t size,
                        char **out, size_t *out_size, char *error,
                        size_t error_size)
{
    *out = NULL;
    *out_size = 0;
    error[0] = 0;
    json_error_t jerror;
    json_t *doc = json_loadb (body, size, 0, &jerror);
    if (!doc || !json_is_object (doc)) {
        if (doc)
            snprintf (error, error_size, "body is not a JSON object: it is "
                      "%s at line 1 column 1", s_type_name (doc));
        else
            snprintf (error, error_size, "body is not a JSON object: %s at "
                      "line %d column %d", jerror.text, jerror.line,
                      jerror.column);
        json_decref (doc);
        return 400;
    }
    int status = s_annotate (doc, service, error, error_size);
    if (status == 200) {
        *out = json_dumps (doc, JSON_COMPACT);
        if (*out)
            *out_size = strlen (*out);
        else {
            snprintf (error, error_size, "cannot serialise the document");
            status = 500;
        }
    }
    json_decref (doc);
    return status;
}
