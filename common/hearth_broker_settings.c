/*  hearth_broker_settings - the broker's one settings table. */
#include "hearth_broker_settings.h"
#include "hearth/hearth_proto.h"

#include <stdio.h>

#define S_FIELD(name) offsetof (hearth_broker_config_t, name)
#define S_DAY_MS HEARTH_SETTINGS_DAY_MS
#define S_HOUR_MS HEARTH_SETTINGS_HOUR_MS

/*  The aliases are the options' names from before they followed the keys;
    `hearth up`, scripts and tests still pass them.                         */
const hearth_setting_t hearth_broker_settings[] = {
    { .key = "heartbeat_ms", .alias = "heartbeat", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (heartbeat_ms), .min = 10, .max = S_HOUR_MS,
      .value = HEARTH_DEFAULT_HEARTBEAT_MS, .metavar = "MS",
      .help = "heartbeat interval told to workers" },
    { .key = "liveness", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (liveness), .min = 1, .max = 100,
      .value = HEARTH_DEFAULT_LIVENESS, .metavar = "N",
      .help = "missed heartbeats before a worker is dead" },
    { .key = "queue_max", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (queue_max), .min = 1, .max = 10000000,
      .value = HEARTH_DEFAULT_QUEUE_MAX, .metavar = "N",
      .help = "native requests queued per service; more get 503 "
              "(MDP ones: max-pending-bytes)" },
    { .key = "max_message", .type = HEARTH_SETTING_SIZE,
      .offset = S_FIELD (max_message), .min = 1024, .max = 1LL << 30,
      .value = HEARTH_DEFAULT_MAX_MESSAGE, .metavar = "BYTES",
      .help = "largest message; larger requests get 413" },
    { .key = "max_pending_bytes", .type = HEARTH_SETTING_SIZE,
      .offset = S_FIELD (max_pending_bytes), .min = 1024, .max = 1LL << 40,
      .value = HEARTH_DEFAULT_MAX_PENDING_BYTES, .metavar = "BYTES",
      .help = "all requests the broker holds (queued, at workers, in "
              "pipelines), at least max-message; past it new ones get 503" },
    { .key = "default_deadline_ms", .alias = "default-deadline",
      .type = HEARTH_SETTING_INT, .offset = S_FIELD (default_deadline_ms),
      .min = 1, .max = S_DAY_MS, .value = HEARTH_DEFAULT_DEADLINE_MS,
      .metavar = "MS", .help = "deadline of requests that carry none" },
    { .key = "linger_ms", .alias = "linger", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (linger_ms), .min = 0, .max = S_DAY_MS,
      .value = HEARTH_DEFAULT_LINGER_MS, .metavar = "MS",
      .help = "keep a service with no workers this long" },
    { .key = "grace_ms", .alias = "grace", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (grace_ms), .min = 0, .max = S_HOUR_MS,
      .value = HEARTH_DEFAULT_GRACE_MS, .metavar = "MS",
      .help = "drain time on SIGINT/SIGTERM" },
    { .key = "send_hwm", .type = HEARTH_SETTING_INT,
      .offset = S_FIELD (send_hwm), .min = 1, .max = 10000000,
      .value = HEARTH_DEFAULT_SEND_HWM, .metavar = "N",
      .help = "messages queued for one peer; a worker past it is rested "
              "until it speaks again" },
    HEARTH_SETTING_END
};

const char *
hearth_broker_settings_check (const hearth_broker_config_t *config)
{
    /*  Per thread, so brokers embedded in several threads can each check
        their own config.                                                    */
    static _Thread_local char why[160];
    const hearth_setting_t *bad = hearth_settings_check (hearth_broker_settings,
                                                         config);
    if (bad) {
        snprintf (why, sizeof why, "%s must be %lld to %lld", bad->key,
                  bad->min, bad->max);
        return why;
    }
    if (config->max_pending_bytes < config->max_message)
        return "max_pending_bytes must be at least max_message";
    return NULL;
}
