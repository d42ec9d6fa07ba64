/*  test_sentiment - the JSON logic of hearth-expert-sentiment
    (workers/examples/sentiment.c), without any broker.
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sentiment.h"
#include "hearth_test.h"

static void
s_expect_counts (const char *text, int positive, int negative, int words)
{
    hearth_sentiment_counts_t c;
    hearth_sentiment_count (text, strlen (text), &c);
    CHECK (c.positive == positive && c.negative == negative && c.words == words,
           "'%s': got +%d -%d %d words, expected +%d -%d %d", text,
           c.positive, c.negative, c.words, positive, negative, words);
}

static void
test_tokeniser (void)
{
    s_expect_counts ("", 0, 0, 0);
    s_expect_counts ("   ,,, 123 !!", 0, 0, 0);
    s_expect_counts ("I love this", 1, 0, 3);
    s_expect_counts ("LOVE Love lOvE", 3, 0, 3);
    s_expect_counts ("awful, terrible, I hate it", 0, 3, 5);
    s_expect_counts ("good-bad", 1, 1, 2);
    s_expect_counts ("it's 'great' don't", 1, 0, 3);
    s_expect_counts ("''' '", 0, 0, 0);
    s_expect_counts ("caf\xc3\xa9 good", 1, 0, 2);
    s_expect_counts ("goodgood good2bad", 1, 1, 3);   /* digits split words */
    char longword[200];
    memset (longword, 'a', sizeof longword - 1);
    longword[sizeof longword - 1] = 0;
    s_expect_counts (longword, 0, 0, 1);

    hearth_sentiment_counts_t c = { 2, 1, 4 };
    CHECK_STR (hearth_sentiment_label (&c), "positive");
    CHECK (fabs (hearth_sentiment_score (&c) - 0.25) < 1e-9, "score");
    c = (hearth_sentiment_counts_t) { 0, 0, 0 };
    CHECK_STR (hearth_sentiment_label (&c), "neutral");
    CHECK (hearth_sentiment_score (&c) == 0.0, "empty score");
    c = (hearth_sentiment_counts_t) { 1, 3, 4 };
    CHECK_STR (hearth_sentiment_label (&c), "negative");
}

/*  Applies the expert to body; returns the parsed output (caller decrefs)
    or NULL when the status is not 200 (status and error returned).         */
static json_t *
s_apply (const char *body, int *status, char *error, size_t error_size)
{
    char *out;
    size_t size;
    *status = hearth_sentiment_apply ("sentiment", body, strlen (body), &out,
                                      &size, error, error_size);
    if (*status != 200) {
        CHECK (out == NULL, "output with status %d", *status);
        return NULL;
    }
    REQUIRE (out && size == strlen (out), "output size");
    CHECK (!strchr (out, '\n') && !strstr (out, ": "), "not compact: %s", out);
    json_error_t jerror;
    json_t *doc = json_loadb (out, size, 0, &jerror);
    REQUIRE (doc, "output is not JSON: %s", out);
    free (out);
    return doc;
}

static void
test_apply (void)
{
    int status;
    char error[300];
    json_t *doc = s_apply ("{\"text\": \"I love this, it is great\", \"id\": 7,"
                           " \"opinions\": {\"other\": {\"x\": 1}}}",
                           &status, error, sizeof error);
    CHECK (status == 200, "status %d: %s", status, error);
    CHECK (json_integer_value (json_object_get (doc, "id")) == 7, "id lost");
    json_t *opinions = json_object_get (doc, "opinions");
    CHECK (json_integer_value (json_object_get (json_object_get (opinions,
           "other"), "x")) == 1, "other opinion lost");
    json_t *op = json_object_get (opinions, "sentiment");
    CHECK_STR (json_string_value (json_object_get (op, "label")), "positive");
    CHECK (json_integer_value (json_object_get (op, "positive")) == 2, "positive");
    CHECK (json_integer_value (json_object_get (op, "negative")) == 0, "negative");
    CHECK (json_integer_value (json_object_get (op, "words")) == 6, "words");
    json_t *score = json_object_get (op, "score");
    CHECK (json_is_number (score)
        && fabs (json_number_value (score) - 2.0 / 6) < 1e-9, "score");
    json_decref (doc);

    /*  No text: neutral, zero words, opinions created.                    */
    doc = s_apply ("{}", &status, error, sizeof error);
    CHECK (status == 200, "status %d: %s", status, error);
    op = json_object_get (json_object_get (doc, "opinions"), "sentiment");
    CHECK_STR (json_string_value (json_object_get (op, "label")), "neutral");
    CHECK (json_integer_value (json_object_get (op, "words")) == 0, "words");
    CHECK (json_number_value (json_object_get (op, "score")) == 0.0, "score");
    json_decref (doc);

    /*  An earlier opinion of the same service is replaced.                 */
    doc = s_apply ("{\"text\":\"bad\",\"opinions\":{\"sentiment\":1}}", &status,
                   error, sizeof error);
    op = json_object_get (json_object_get (doc, "opinions"), "sentiment");
    CHECK (json_is_object (op), "opinion not replaced");
    json_decref (doc);
}

static void
test_errors (void)
{
    int status;
    char error[300];
    CHECK (!s_apply ("{not json", &status, error, sizeof error), "parsed");
    CHECK (status == 400, "status %d", status);
    CHECK (strncmp (error, "body is not a JSON object: ", 27) == 0
        && strstr (error, " at line 1 column "), "error '%s'", error);
    CHECK (!s_apply ("{\"a\":1,\n\"b\":}", &status, error, sizeof error), "parsed");
    CHECK (status == 400 && strstr (error, "at line 2 column"), "error '%s'", error);
    CHECK (!s_apply ("[1, 2]", &status, error, sizeof error), "array accepted");
    CHECK (status == 400 && strstr (error, "not a JSON object"), "'%s'", error);
    CHECK (!s_apply ("", &status, error, sizeof error), "empty accepted");
    CHECK (status == 400, "status %d", status);
    CHECK (!s_apply ("{\"opinions\": [1]}", &status, error, sizeof error), "ok");
    CHECK (status == 400 && strstr (error, "opinions"), "'%s'", error);
    CHECK (!s_apply ("{\"text\": 5}", &status, error, sizeof error), "ok");
    CHECK (status == 400 && strstr (error, "text"), "'%s'", error);
    /*  Bytes after the object, and embedded NULs, are not a JSON object.   */
    char *out;
    size_t size;
    status = hearth_sentiment_apply ("s", "{}\0junk", 7, &out, &size, error,
                                     sizeof error);
    CHECK (status == 400 && out == NULL, "status %d", status);
}

int
main (int argc, char **argv)
{
    RUN (test_tokeniser);
    RUN (test_apply);
    RUN (test_errors);
    return HEARTH_TEST_RESULT;
}
