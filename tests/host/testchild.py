#!/usr/bin/python3
"""testchild - a misbehaving child for hearth-worker's tests.

What it does with a request depends on the body (bytes):
  hang            never answers (sleeps)
  crash           writes "dying: boom" to stderr, exits 3
  crash-once      like crash, but only the first time for --once-file
  empty           answers an empty line (line) / a bad header (length)
  stray           answers, then writes one more reply nobody asked for
  sleep:SECONDS   answers after SECONDS
  anything else   answers b"ok pid=<pid> " + body

Options: --framing line|length, --ready TEXT (printed after --load
seconds, preceded by a noise line), --per-request (one body on stdin up to
EOF, answer on stdout, exit).
"""
import argparse
import os
import struct
import sys
import time


def answer(body, args):
    """The reply bytes for body, or None to send garbage."""
    if body == b"hang":
        while True:
            time.sleep(3600)
    if body == b"crash" or (body == b"crash-once" and not os.path.exists(args.once_file)):
        if body == b"crash-once":
            open(args.once_file, "w").close()
        sys.stderr.write("dying: boom\n")
        sys.stderr.flush()
        os._exit(3)
    if body == b"empty":
        return None
    if body.startswith(b"sleep:"):
        time.sleep(float(body[6:]))
    return b"ok pid=%d " % os.getpid() + body


def read_frame(stdin, framing):
    if framing == "line":
        line = stdin.readline()
        return line[:-1] if line.endswith(b"\n") else (line or None)
    header = stdin.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return stdin.read(size)


def write_frame(stdout, framing, data):
    if data is None:        # garbage
        stdout.write(b"\n" if framing == "line" else b"\xff\xff\xff\xff")
    elif framing == "line":
        stdout.write(data + b"\n")
    else:
        stdout.write(struct.pack(">I", len(data)) + data)
    stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--framing", default="line")
    parser.add_argument("--ready")
    parser.add_argument("--load", type=float, default=0.0)
    parser.add_argument("--once-file", default="/nonexistent/once")
    parser.add_argument("--per-request", action="store_true")
    args = parser.parse_args()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if args.per_request:
        body = stdin.read()
        reply = answer(body, args)
        stdout.write(b"" if reply is None else reply)
        stdout.flush()
        return
    if args.ready:
        stdout.write(b"loading the model...\n")
        stdout.flush()
        sys.stderr.write("loading for %.1f s\n" % args.load)
        sys.stderr.flush()
        time.sleep(args.load)
        stdout.write(args.ready.encode() + b"\n")
        stdout.flush()
    while True:
        body = read_frame(stdin, args.framing)
        if body is None:
            return
        reply = answer(body, args)
        write_frame(stdout, args.framing, reply)
        if body == b"stray":
            write_frame(stdout, args.framing, b"unasked")


if __name__ == "__main__":
    main()
