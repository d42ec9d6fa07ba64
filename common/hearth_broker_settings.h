/*  hearth_broker_settings - the broker's settings, declared once.

    hearth_broker_settings[] is the one table of them: hearth-broker's
    options and --help, the defaults and range checks of
    hearth_broker_config_defaults/_check, and the keys of mesh.yml's broker
    section (schemas/CONFIG.md 3.2) all come from it. It lives in common/
    because the mesh.yml loader reads it too, and the loader must not link
    the broker.
*/
#ifndef HEARTH_BROKER_SETTINGS_H_INCLUDED
#define HEARTH_BROKER_SETTINGS_H_INCLUDED

#include <stddef.h>
#include "hearth_settings.h"

typedef struct {
    int heartbeat_ms;           /* told to native workers; liveness tick     */
    int liveness;               /* missed heartbeats before a peer is dead   */
    int queue_max;              /* requests queued per service               */
    size_t max_message;         /* bytes in one message, all frames          */
    size_t max_pending_bytes;   /* all requests held (queued, at workers, in
                                   routes); past it new ones get 503        */
    int default_deadline_ms;    /* for requests that carry none              */
    int linger_ms;              /* how long a worker-less service is kept    */
    int grace_ms;               /* drain time on stop                        */
    int send_hwm;               /* messages queued for one peer before a
                                   send to it fails: the worker is rested  */
} hearth_broker_config_t;

/*  One row per field of hearth_broker_config_t, ended by a NULL key.       */
extern const hearth_setting_t hearth_broker_settings[];

/*  Checks config against the table's ranges and max_pending_bytes against
    max_message. Returns NULL if valid, else a message naming the key; it
    is valid until the next call from the same thread.                     */
const char *hearth_broker_settings_check (const hearth_broker_config_t *config);

#endif
