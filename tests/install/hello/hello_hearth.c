/*  hello_hearth - the smallest program that proves a build against
    libhearth links and runs: it prints the version of the headers it was
    compiled with, asks a broker that is not there for a service and prints
    the error it got, then makes and drops a worker. Exit 0 only if the call
    failed with HEARTH_EUNREACHABLE, the documented error for that case.

        hello_hearth [ENDPOINT]      default tcp://127.0.0.1:1 (nobody listens)
*/
#include <hearth/hearth.h>
#include <stdio.h>

static int
s_handle (const hearth_request_t *request, hearth_response_t *response,
          void *arg)
{
    return 200;
}

int
main (int argc, char *argv [])
{
    const char *endpoint = argc > 1 ? argv [1] : "tcp://127.0.0.1:1";
    printf ("hearth %s\n", HEARTH_VERSION_STRING);

    hearth_client_t *client = hearth_client_new (endpoint);
    if (!client) {
        fprintf (stderr, "hello_hearth: bad endpoint %s\n", endpoint);
        return 1;
    }
    hearth_client_set_connect_timeout (client, 200);
    hearth_reply_t *reply = NULL;
    int rc = hearth_client_call (client, "hello", "hi", 2, 2000, 0, &reply);
    printf ("%s: %s\n", hearth_error_name (rc), hearth_strerror (rc));
    hearth_reply_destroy (&reply);
    hearth_client_destroy (&client);

    hearth_descriptor_t descriptor = { .service = "hello" };
    hearth_worker_t *worker = hearth_worker_new (endpoint, &descriptor,
                                                 s_handle, NULL);
    if (!worker) {
        fprintf (stderr, "hello_hearth: hearth_worker_new failed\n");
        return 1;
    }
    hearth_worker_destroy (&worker);
    return rc == HEARTH_EUNREACHABLE ? 0 : 1;
}
