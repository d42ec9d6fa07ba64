"""hearth-worker: normal service, framing, per-request mode, concurrency,
start-up and shutdown (schemas/WORKER.md)."""

import json
import os
import signal
import time

from conftest import CHILD, EXAMPLES, PYTHON, child_pids, pid_gone, reply_pid
from hearthtest import P, binary, unpack, wait_until


def test_line_framing_replies(host):
    host.worker("echo")
    reply = host.call("echo", "hello world")
    assert reply.status == P.HEARTH_STATUS_OK, reply
    assert reply.body.startswith(b"ok pid=") and reply.body.endswith(b" hello world")
    # The same warm child answers again.
    again = host.call("echo", "second")
    assert again.status == P.HEARTH_STATUS_OK and reply_pid(again) == reply_pid(reply)


def test_newline_in_body_is_refused_with_400(host):
    host.worker("echo")
    reply = host.call("echo", "two\nlines")
    assert reply.status == P.HEARTH_STATUS_BAD_REQUEST, reply
    assert "--framing length" in reply.error
    # Nothing reached the child: the same child still serves.
    assert host.call("echo", "fine").status == P.HEARTH_STATUS_OK


def test_length_framing_multiline_and_binary(host):
    host.worker("bin", "--framing", "length", cmd=CHILD + ["--framing", "length"])
    multi = host.call("bin", "line one\nline two\n\nend")
    assert multi.status == P.HEARTH_STATUS_OK, multi
    assert multi.body.endswith(b" line one\nline two\n\nend")
    binary_body = bytes(range(256)) * 4
    reply = host.call("bin", binary_body)
    assert reply.status == P.HEARTH_STATUS_OK, reply
    assert reply.body.endswith(b" " + binary_body)
    empty = host.call("bin", b"")
    assert empty.status == P.HEARTH_STATUS_OK and empty.body.endswith(b" "), empty


def test_wordcount_example(host):
    host.worker("wordcount", cmd=[PYTHON, os.path.join(EXAMPLES, "wordcount.py")])
    import json
    reply = host.call("wordcount", json.dumps({"text": "the quick brown fox",
                                               "opinions": {"other": {"x": "not counted"}}}))
    assert reply.status == P.HEARTH_STATUS_OK, reply
    doc = json.loads(reply.body)
    assert doc["opinions"]["wordcount"] == {"words": 4, "chars": 19}
    assert doc["opinions"]["other"] == {"x": "not counted"}


# An expert as users write it: print() and no flush. On a pipe, Python
# block-buffers stdout, so without hearth-worker's PYTHONUNBUFFERED=1 the
# reply would sit in the child's buffer until the request timed out.
UNFLUSHED = """
import json, sys
for line in sys.stdin:
    doc = json.loads(line)
    doc.setdefault("opinions", {})["lazy"] = {"seen": True}
    print(json.dumps(doc))
"""


def test_an_expert_that_never_flushes_still_answers(host):
    host.worker("lazy", "--timeout", "20000", cmd=[PYTHON, "-c", UNFLUSHED])
    for i in range(3):
        reply = host.call("lazy", json.dumps({"i": i}))
        assert reply.status == P.HEARTH_STATUS_OK, reply
        assert json.loads(reply.body) == {"i": i, "opinions": {"lazy": {"seen": True}}}


def test_a_silent_first_request_names_buffering_in_its_504(host):
    # The user turned the default off (an empty value is "unset" to Python):
    # the reply stays buffered, and the 504 says what to look at.
    env = dict(os.environ, PYTHONUNBUFFERED="")
    host.worker("buffered", "--timeout", "1000", cmd=[PYTHON, "-c", UNFLUSHED], env=env)
    reply = host.call("buffered", json.dumps({"i": 0}))
    assert reply.status == P.HEARTH_STATUS_TIMEOUT, reply
    assert "wrote nothing on stdout" in reply.error and "flush" in reply.error, reply.error


def test_descriptor_is_registered(host):
    host.worker("described", "--version-string", "2.5", "--description", "a test expert",
                "--idempotent")
    reply = host.client.call(P.HEARTH_SVC_SERVICES, b"described", timeout=5)
    entry = unpack(reply.body)[0]
    assert entry["descriptor"]["version"] == "2.5"
    assert entry["descriptor"]["description"] == "a test expert"
    assert entry["descriptor"]["idempotent"] is True
    assert entry["descriptor"]["credit"] == 1


def test_slow_start_nothing_routed_before_ready_line(host):
    """Uses the slowstart example: 0 workers while it loads, and a call made
    while a restarted child loads waits, then succeeds."""
    cmd = [PYTHON, os.path.join(EXAMPLES, "slowstart.py"), "--load-seconds", "3"]
    worker = host.worker("slow", "--ready-line", "READY", cmd=cmd, wait=False)
    worker.wait_line(r"loading the model", timeout=15)
    assert host.workers("slow") == 0
    assert "ready after" not in worker.output(), "the check came too late to mean anything"
    host.wait_workers("slow", 1, proc=worker)
    pid = int(worker.wait_line(r"\[slow pid (\d+)\] ready after").group(1))
    assert host.call("slow", '{"t": "a b"}').status == P.HEARTH_STATUS_OK
    # Kill the child while idle: it is replaced, and nothing is routed to
    # the new one before its ready line.
    start = len(worker.lines)
    os.kill(pid, signal.SIGKILL)
    worker.wait_line(r"loading the model", timeout=15, start=start)
    assert host.workers("slow") == 0
    t0 = time.monotonic()
    reply = host.call("slow", '{"t": "x y z"}', deadline_ms=20000)
    assert reply.status == P.HEARTH_STATUS_OK, reply
    assert b'"slowstart":{"words":3' in reply.body
    assert "ready after" in worker.output(), "answered before the ready line"
    assert time.monotonic() - t0 < 15


def test_per_request_drops_the_ready_line(host):
    """WORKER.md: in --per-request mode a program that prints its ready line
    (the same script serves both modes) answers without it."""
    cmd = [PYTHON, os.path.join(EXAMPLES, "slowstart.py"), "--load-seconds", "0"]
    host.worker("cold", "--per-request", "--ready-line", "READY", cmd=cmd)
    reply = host.call("cold", '{"t": "one two"}')
    assert reply.status == P.HEARTH_STATUS_OK, reply
    assert not reply.body.startswith(b"READY"), reply.body
    assert json.loads(reply.body)["opinions"]["slowstart"]["words"] == 2


def test_start_timeout_kills_and_restarts(host):
    worker = host.worker("late", "--ready-line", "READY", "--start-timeout", "300",
                         cmd=CHILD + ["--ready", "READY", "--load", "30"], wait=False)
    worker.wait_line(r"no ready line \"READY\" within 300 ms", timeout=15)
    # And it tries again (with backoff) rather than giving up.
    worker.wait_line(r"\[late pid \d+\] started", timeout=15,
                     start=[i for i, l in enumerate(worker.lines) if "no ready line" in l][0])
    assert host.workers("late") == 0


def test_per_request_mode(host):
    host.worker("once", "--per-request", "--timeout", "1500", processes=2,
                cmd=CHILD + ["--per-request"])
    a = host.call("once", "first\nwith newline")
    b = host.call("once", "second")
    assert a.status == P.HEARTH_STATUS_OK and b.status == P.HEARTH_STATUS_OK, (a, b)
    assert a.body.endswith(b" first\nwith newline")
    assert reply_pid(a) != reply_pid(b), "per-request mode must spawn for each request"
    crash = host.call("once", "crash")
    assert crash.status == P.HEARTH_STATUS_WORKER_LOST, crash
    assert "dying: boom" in crash.error and "status 3" in crash.error
    hang = host.call("once", "hang")
    assert hang.status == P.HEARTH_STATUS_TIMEOUT, hang
    empty = host.call("once", "empty")
    assert empty.status == P.HEARTH_STATUS_WORKER_ERROR, empty
    assert host.call("once", "after").status == P.HEARTH_STATUS_OK


def test_three_processes_serve_concurrently(host):
    host.worker("par", processes=3)
    ids = [host.client.request("par", b"sleep:1.0",
                               meta={P.HEARTH_META_DEADLINE.decode(): 20000})
           for _ in range(3)]
    t0 = time.monotonic()
    replies = [host.client.recv(timeout=20, rid=rid) for rid in ids]
    elapsed = time.monotonic() - t0
    assert all(r is not None and r.status == P.HEARTH_STATUS_OK for r in replies), replies
    assert len({reply_pid(r) for r in replies}) == 3
    # One second each; serially they would take three.
    assert elapsed < 2.5, elapsed


def test_sigterm_leaves_no_child_behind(host):
    worker = host.worker("term", processes=3)
    pids = child_pids(worker)
    assert len(pids) == 3, worker.output()
    assert host.call("term", "x").status == P.HEARTH_STATUS_OK
    worker.signal(signal.SIGTERM)
    assert worker.wait(15) == 0, worker.output()
    for pid in pids:
        wait_until(lambda: pid_gone(pid), timeout=10, what="child %d gone" % pid)


def test_sigterm_kills_a_child_that_ignores_it(host):
    cmd = [PYTHON, "-c", "import signal, sys, time\n"
           "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
           "for line in sys.stdin: print(line.strip(), flush=True)\n"]
    worker = host.worker("stubborn", cmd=cmd)
    pids = child_pids(worker)
    assert host.call("stubborn", "x").body == b"x"
    worker.signal(signal.SIGINT)
    assert worker.wait(15) == 0, worker.output()
    assert "did not exit on SIGTERM" in worker.output()
    for pid in pids:
        wait_until(lambda: pid_gone(pid), timeout=10, what="child %d gone" % pid)


def test_usage_errors_exit_2():
    import subprocess
    bin_ = binary("HEARTH_WORKER_BIN")
    for args in ([], ["-s", "x"], ["-s", "x", "-n", "0", "--", "true"],
                 ["-s", "x", "--framing", "xml", "--", "true"],
                 ["-s", "a,b", "--", "true"], ["-s", "mmi.x", "--", "true"],
                 ["--bogus"]):
        out = subprocess.run([bin_] + args, capture_output=True, timeout=30)
        assert out.returncode == 2, (args, out)
    out = subprocess.run([bin_, "--help"], capture_output=True, timeout=30)
    assert out.returncode == 0 and b"--ready-line" in out.stdout
