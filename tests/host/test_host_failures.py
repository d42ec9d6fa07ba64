"""hearth-worker: hung, crashing and garbage-talking children
(schemas/WORKER.md, "Errors")."""

import os
import time

from conftest import CHILD, PYTHON, pid_gone, reply_pid
from hearthtest import P, wait_until


def test_hung_child_gets_504_and_a_fresh_child(host):
    worker = host.worker("hung", "--timeout", "1000")
    first = host.call("hung", "before")
    old = reply_pid(first)
    t0 = time.monotonic()
    hung = host.call("hung", "hang")
    assert hung.status == P.HEARTH_STATUS_TIMEOUT, hung
    assert time.monotonic() - t0 < 5
    assert "killed" in hung.error
    after = host.call("hung", "after")
    assert after.status == P.HEARTH_STATUS_OK, after
    assert reply_pid(after) != old
    wait_until(lambda: pid_gone(old), timeout=10, what="hung child reaped")
    assert worker.alive()


def test_request_deadline_shorter_than_timeout(host):
    host.worker("hung2", "--timeout", "60000")
    reply = host.call("hung2", "hang", deadline_ms=800)
    assert reply.status == P.HEARTH_STATUS_TIMEOUT, reply
    assert host.call("hung2", "after").status == P.HEARTH_STATUS_OK


def test_crash_gives_502_with_stderr_tail(host):
    host.worker("crashy")
    old = reply_pid(host.call("crashy", "before"))
    crash = host.call("crashy", "crash")
    assert crash.status == P.HEARTH_STATUS_WORKER_LOST, crash
    assert "dying: boom" in crash.error, crash.error
    assert "exited with status 3" in crash.error, crash.error
    after = host.call("crashy", "after")
    assert after.status == P.HEARTH_STATUS_OK, after
    assert reply_pid(after) != old


def test_idempotent_crash_once_is_retried(host, tmp_path):
    once = str(tmp_path / "crashed")
    worker = host.worker("retry", "--idempotent", cmd=CHILD + ["--once-file", once])
    reply = host.call("retry", "crash-once")
    assert reply.status == P.HEARTH_STATUS_OK, reply
    assert os.path.exists(once), "the first attempt did not crash"
    assert reply.body.endswith(b" crash-once")
    assert "dying: boom" in worker.output()


def test_idempotent_crash_twice_gives_502(host):
    host.worker("retry2", "--idempotent")
    reply = host.call("retry2", "crash")
    assert reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert "dying: boom" in reply.error, reply.error
    assert host.call("retry2", "after").status == P.HEARTH_STATUS_OK


def test_empty_line_is_500_with_stderr_tail(host):
    host.worker("garbage", cmd=[PYTHON, "-c",
        "import sys\n"
        "for line in sys.stdin:\n"
        "    if 'empty' in line:\n"
        "        sys.stderr.write('model confused\\n'); sys.stderr.flush(); print(flush=True)\n"
        "    else:\n"
        "        print('ok ' + line.strip(), flush=True)\n"])
    reply = host.call("garbage", "empty")
    assert reply.status == P.HEARTH_STATUS_WORKER_ERROR, reply
    assert "garbage" in reply.error and "model confused" in reply.error, reply.error
    assert 'stderr: model confused' in reply.error, reply.error
    assert host.call("garbage", "fine").body == b"ok fine"


def test_error_texts_are_utf8_whatever_the_child_wrote(host):
    # Latin-1 bytes on stderr must not make the error text invalid UTF-8
    # (a strict msgpack reader would reject the whole reply); real UTF-8
    # is kept.
    host.worker("latin", cmd=[PYTHON, "-c",
        "import sys\n"
        "for line in sys.stdin:\n"
        "    sys.stderr.buffer.write(b'caf\\xe9 na\\xefve \\xe2\\x82\\xac ok\\n')\n"
        "    sys.stderr.flush()\n"
        "    sys.exit(4)\n"])
    reply = host.call("latin", "x")
    assert reply.status == P.HEARTH_STATUS_WORKER_LOST, reply
    assert "caf? na?ve \u20ac ok" in reply.error, reply.error


def test_bad_length_header_is_500(host):
    host.worker("badlen", "--framing", "length", cmd=CHILD + ["--framing", "length"])
    reply = host.call("badlen", "empty")
    assert reply.status == P.HEARTH_STATUS_WORKER_ERROR, reply
    assert host.call("badlen", "fine").status == P.HEARTH_STATUS_OK


def test_stray_output_replaces_the_child(host):
    worker = host.worker("stray")
    first = host.call("stray", "stray")
    assert first.status == P.HEARTH_STATUS_OK
    old = reply_pid(first)
    # The unasked line is noticed and the child replaced; no caller gets it.
    # The log shows what it wrote, so the user sees the culprit.
    worker.wait_line(r'wrote to stdout unasked: "unasked', timeout=10)
    after = host.call("stray", "after")
    assert after.status == P.HEARTH_STATUS_OK and after.body.endswith(b" after"), after
    assert reply_pid(after) != old


def test_crash_loop_is_logged_and_backs_off(host):
    worker = host.worker("loop", "--ready-line", "READY",
                         cmd=[PYTHON, "-c", "import sys; sys.exit(1)"], wait=False)
    t0 = time.monotonic()
    worker.wait_line(r"crash loop", timeout=30)
    elapsed = time.monotonic() - t0
    starts = len([l for l in worker.lines if "] started" in l])
    # Backoff, not a spin: five restarts took seconds, not milliseconds.
    assert starts <= 7 and elapsed > 1.5, (starts, elapsed)
    assert host.workers("loop") == 0
