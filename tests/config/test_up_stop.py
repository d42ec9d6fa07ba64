"""`hearth up` stopped under load (issue 7, item 14): no call the broker has
accepted may fail.

CONFIG.md section 4: on SIGTERM `hearth up` stops the broker first; it
refuses new requests at once (503 "broker shutting down", PROTOCOL.md 5.6)
and serves everything it accepted through the workers, which keep running;
only then are the workers stopped. Stopping the workers first left the
requests queued behind the one in flight with nobody to serve them: they
got 503 ("no workers" after linger_ms, or "broker shutting down" when the
grace ended).

The window is made wide rather than hoped for: one worker that takes
0.4 s a request and six callers, so that at SIGTERM requests are queued
behind the one in flight. Before it sends SIGTERM the test proves, by the
broker's own count, that every outstanding call is at the broker (not on
its way there) and at least one is queued, so the assertion is about
accepted calls only."""

import os
import signal
import sys
import threading

from hearthtest import HearthUp, binary, children_of, gone, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "client", "python"))

import hearth  # noqa: E402  (the package of the source tree, as `hearth up` uses)

CALLERS = 6
CALLS_MAX = 40                  # per caller: the load is bounded in count
SERVICE_S = 0.4                 # per request at the one worker

MESH = """
broker:
  bind: [tcp://127.0.0.1:*]
  grace_ms: 30000
services:
  slow:
    module: slow:handle
  sentiment:
    worker: [hearth-expert-sentiment]
"""

SLOW = """
import time

def handle(doc):
    time.sleep(%r)
    return doc
""" % SERVICE_S


class Caller(threading.Thread):
    """Calls `slow` one request at a time until told to hold (or CALLS_MAX),
    recording each outcome. `busy` is True while a call is outstanding."""

    def __init__(self, endpoint, hold, lock):
        super().__init__(daemon=True)
        self.client = hearth.Client(endpoint, name="up-stop-test", timeout=60.0)
        self.hold = hold
        self.lock = lock            # hold is set, and busy read, under it
        self.outcomes = []          # "ok", or the error's "STATUS text"
        self.busy = False

    def run(self):
        for n in range(CALLS_MAX):
            with self.lock:
                if self.hold.is_set():
                    break
                self.busy = True
            try:
                doc = self.client.call("slow", {"n": n})
                self.outcomes.append("ok" if doc == {"n": n} else "bad reply %r" % doc)
            except hearth.HearthError as e:
                self.outcomes.append(str(e))
            finally:
                self.busy = False

    def close(self):
        self.client.close()


def broker_holds(watcher):
    """(queued, in_flight) of `slow` at the broker."""
    service = watcher.services("slow")[0]
    return service["queued"], service["in_flight"]


def test_up_sigterm_under_load_fails_no_accepted_call(tmp_path, ups):
    (tmp_path / "mesh.yml").write_text(MESH)
    (tmp_path / "slow.py").write_text(SLOW)
    env = dict(os.environ)
    env["HEARTH_BROKER_BIN"] = binary("HEARTH_BROKER_BIN")
    up = HearthUp(["-c", str(tmp_path / "mesh.yml")], env=env)
    ups.append(up)
    up.wait_ready(timeout=90.0)
    kids = children_of(up.proc.pid)
    assert len(kids) == 3, kids

    hold, lock = threading.Event(), threading.Lock()
    callers = [Caller(up.endpoint, hold, lock) for _ in range(CALLERS)]
    watcher = hearth.Client(up.endpoint, name="up-stop-watcher", timeout=10.0)
    try:
        for c in callers:
            c.start()
        # The load runs: the first calls came back.
        wait_until(lambda: sum(len(c.outcomes) for c in callers) >= CALLERS,
                   timeout=60.0, interval=0.05, what="the first calls answered")
        with lock:
            hold.set()

        # Every outstanding call is at the broker: it holds exactly as many
        # requests of `slow` as callers wait for (none is on its way there,
        # none answered and on its way back), and some are queued, not yet
        # at the worker. The callers send nothing new from here on.
        accepted = {}

        def all_at_broker():
            before = [c for c in callers if c.busy]
            held = broker_holds(watcher)
            after = [c for c in callers if c.busy]
            if held and before == after and sum(held) == len(after) and held[0] >= 1:
                accepted.update({c: len(c.outcomes) for c in after})
                return True
            return False
        wait_until(all_at_broker, timeout=30.0, interval=0.0,
                   what="outstanding calls all queued at the broker")
        mark = len(up.proc.lines)
        os.kill(up.proc.pid, signal.SIGTERM)
        code = up.proc.wait(timeout=90.0)
        for c in callers:
            c.join(timeout=90.0)
            assert not c.is_alive(), "a caller still waits for its reply"
    finally:
        hold.set()
        watcher.close()
        for c in callers:
            c.close()

    out = "\n".join(up.proc.lines[mark:])
    # The calls accepted before SIGTERM: each one answered, and with 200.
    failed = ["%s" % c.outcomes[n] for c, n in accepted.items()
              if c.outcomes[n] != "ok"]
    assert len(accepted) >= 2, accepted
    assert failed == [], "%d of %d accepted calls failed: %s\n%s" % (
        len(failed), len(accepted), failed, up.proc.output())
    # Nothing else failed either: no caller sent after the hold.
    for c in callers:
        assert all(o == "ok" for o in c.outcomes), c.outcomes
    assert code == 0, up.proc.output()
    # The broker stopped first (having served what it accepted), the
    # workers after it; none was killed or restarted.
    assert "did not stop within" not in out, out
    assert "restarting in" not in out, out
    broker = out.index("hearth-broker[%d] info: stopped:" % up.broker_pid)
    assert broker < out.index("hearth-expert-sentiment"), out
    wait_until(lambda: all(gone(p) for p in kids), timeout=10.0, what="children gone")
