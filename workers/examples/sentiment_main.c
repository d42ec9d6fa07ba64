/*  hearth-expert-sentiment - serves the sentiment expert (sentiment.c) as
    a Hearth worker. main() only parses options and wires signals: the
    protocol is libhearth's, the logic sentiment.c's.
*/
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hearth/hearth.h"
#include "hearth_log.h"
#include "hearth_number.h"
#include "sentiment.h"

#define S_IDENT "hearth-expert-sentiment"

typedef struct {
    const char *service;
    int delay_ms;               /* simulated model latency                  */
} s_config_t;

static hearth_worker_t *s_worker;   /* for the signal handler only          */

static void
s_on_signal (int signum)
{
    hearth_worker_stop (s_worker);
}

/*  Sleeps the simulated latency, but never past the caller's deadline:
    nobody waits for an answer after that. Returns true if the deadline cut
    it short, so the model "did not finish".                                 */
static bool
s_simulate_latency (const hearth_request_t *request, int delay_ms)
{
    int64_t remaining = hearth_request_remaining_ms (request);
    int64_t ms = delay_ms;
    bool cut = remaining >= 0 && remaining < ms;
    if (cut)
        ms = remaining;
    struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
    while (ms > 0 && nanosleep (&ts, &ts) && errno == EINTR)
        ;
    return cut;
}

static int
s_handler (const hearth_request_t *request, hearth_response_t *response,
           void *arg)
{
    const s_config_t *config = arg;
    if (config->delay_ms > 0 && s_simulate_latency (request, config->delay_ms)) {
        hearth_response_set_error (response, "deadline passed while the model ran");
        return HEARTH_STATUS_TIMEOUT;
    }
    size_t size;
    const void *body = hearth_request_body (request, &size);
    char *out;
    size_t out_size;
    char error[300];
    int status = hearth_sentiment_apply (config->service, body, size, &out,
                                         &out_size, error, sizeof error);
    if (status == HEARTH_STATUS_OK)
        hearth_response_take_body (response, out, out_size);
    else
        hearth_response_set_error (response, error);
    return status;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: " S_IDENT " [OPTIONS]\n"
        "Serves a lexicon-based sentiment expert over Hearth: reads a JSON\n"
        "object, scores its \"text\" and adds opinions.<service>.\n\n"
        "  -b, --broker ENDPOINT   broker to serve (default $HEARTH_BROKER or "
        HEARTH_DEFAULT_ENDPOINT ")\n"
        "  -s, --service NAME      service name (default sentiment)\n"
        "  -n, --concurrency N     handler threads (default 1)\n"
        "      --credit N          requests held at once (default concurrency)\n"
        "      --delay-ms MS       simulated model latency per request, cut\n"
        "                          short by the request's deadline\n"
        "      --idempotent        requests may be resent if this worker dies\n"
        "      --version-string V  version in the service descriptor\n"
        "  -v, --verbose           debug logging\n"
        "  -h, --help              this text\n");
}

/*  A whole number in [0, max], or -1 if text is not one: the worker then
    refuses the -1 as it refuses any bad count.                             */
static int
s_parse_count (const char *text, int max)
{
    int value;
    return hearth_number_int (text, 0, max, &value) ? -1 : value;
}

static const char s_input_schema[] =
    "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"},"
    "\"opinions\":{\"type\":\"object\"}}}";
static const char s_output_schema[] =
    "{\"type\":\"object\",\"required\":[\"opinions\"],\"properties\":{"
    "\"opinions\":{\"type\":\"object\",\"additionalProperties\":{"
    "\"type\":\"object\",\"required\":[\"label\",\"score\",\"positive\","
    "\"negative\",\"words\"],\"properties\":{\"label\":{\"enum\":["
    "\"positive\",\"negative\",\"neutral\"]},\"score\":{\"type\":\"number\"},"
    "\"positive\":{\"type\":\"integer\"},\"negative\":{\"type\":\"integer\"},"
    "\"words\":{\"type\":\"integer\"}}}}}}";

int
main (int argc, char **argv)
{
    hearth_log_set_ident (S_IDENT);
    const char *endpoint = getenv ("HEARTH_BROKER");
    if (!endpoint || !*endpoint)
        endpoint = HEARTH_DEFAULT_ENDPOINT;
    s_config_t config = { "sentiment", 0 };
    hearth_descriptor_t descriptor = {
        .version = HEARTH_VERSION_STRING,
        .description = "lexicon-based sentiment of doc.text, added under "
                       "opinions.<service>",
        .input_schema = s_input_schema, .output_schema = s_output_schema,
        .example = "{\"text\": \"I love this\"}",
    };
    enum { OPT_CREDIT = 256, OPT_DELAY, OPT_IDEMPOTENT, OPT_VERSION };
    static const struct option options[] = {
        { "broker", required_argument, NULL, 'b' },
        { "service", required_argument, NULL, 's' },
        { "concurrency", required_argument, NULL, 'n' },
        { "credit", required_argument, NULL, OPT_CREDIT },
        { "delay-ms", required_argument, NULL, OPT_DELAY },
        { "idempotent", no_argument, NULL, OPT_IDEMPOTENT },
        { "version-string", required_argument, NULL, OPT_VERSION },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "b:s:n:vh", options, NULL)) != -1) {
        switch (opt) {
            case 'b': endpoint = optarg; break;
            case 's': config.service = optarg; break;
            case 'n':
                descriptor.concurrency = s_parse_count (optarg, HEARTH_CREDIT_MAX);
                break;
            case OPT_CREDIT:
                descriptor.credit = s_parse_count (optarg, HEARTH_CREDIT_MAX);
                break;
            case OPT_DELAY:
                config.delay_ms = s_parse_count (optarg, 3600000);
                if (config.delay_ms < 0) {
                    fprintf (stderr, S_IDENT ": bad --delay-ms '%s'\n", optarg);
                    return 2;
                }
                break;
            case OPT_IDEMPOTENT: descriptor.idempotent = true; break;
            case OPT_VERSION: descriptor.version = optarg; break;
            case 'v': hearth_log_set_level (HEARTH_LOG_DEBUG); break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, S_IDENT ": unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    descriptor.service = config.service;
    /*  Seed jansson's hash before handler threads use it concurrently.     */
    json_object_seed (0);
    s_worker = hearth_worker_new (endpoint, &descriptor, s_handler, &config);
    if (!s_worker) {
        fprintf (stderr, S_IDENT ": invalid service, counts or endpoint "
                 "(service '%s', endpoint '%s')\n", config.service, endpoint);
        return 2;
    }
    /*  Scoring always ends quickly: with one request at a time, run it on
        the worker's own thread (one hand-off less per request).            */
    if (descriptor.concurrency <= 1 && descriptor.credit <= 1)
        hearth_worker_set_inline (s_worker, true);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    hearth_log_info ("serving %s at %s", config.service, endpoint);
    int rc = hearth_worker_run (s_worker);
    hearth_worker_destroy (&s_worker);
    if (rc != HEARTH_OK) {
        hearth_log_error ("stopped: %s", hearth_strerror (rc));
        return 1;
    }
    hearth_log_info ("stopped");
    return 0;
}
