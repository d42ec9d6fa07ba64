#!/usr/bin/python3
"""bench_zmq_echo - the transport floor for bench_experts.py: a pyzmq ROUTER
that sends every message straight back. Binds tcp://127.0.0.1:* and prints
`listening on ENDPOINT`; runs until SIGTERM."""
import signal
import sys

import zmq


def main():
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    router.bind("tcp://127.0.0.1:*")
    print("listening on %s" % router.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        router.send_multipart(router.recv_multipart())


if __name__ == "__main__":
    main()
