"""hearth-worker restarts children by the one restart policy it shares with
`hearth up` (schemas/WORKER.md section 5, schemas/CONFIG.md section 4): the
delay doubles from 100 ms, and five deaths within 30 s are logged once as a
crash loop, in the same words as `hearth up`'s."""

import datetime
import re

from conftest import PYTHON

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def stamp(line):
    """The log line's time, in seconds."""
    m = STAMP.match(line)
    assert m, line
    when = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return when.timestamp()


def test_restart_delays_double_from_100_ms_and_a_loop_is_logged_once(host):
    worker = host.worker("dies", "--ready-line", "READY",
                         cmd=[PYTHON, "-c", "import sys; sys.exit(1)"], wait=False)
    worker.wait_line(r"dies: crash loop: died 5 times within 30 s; "
                     r"restarting with backoff up to 30 s", timeout=30)
    # The sixth start comes at least 1.6 s after the fifth: wait for it, so
    # the gaps between all six are known.
    worker.wait_line(r"\[dies pid \d+\] started", timeout=30,
                     start=[i for i, l in enumerate(worker.lines) if "crash loop" in l][0])
    starts = [stamp(l) for l in worker.lines if re.search(r"\[dies pid \d+\] started", l)]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # A child lives a little before it dies, so each gap is at least its
    # delay (log stamps are to the millisecond).
    for gap, delay in zip(gaps, [0.1, 0.2, 0.4, 0.8, 1.6]):
        assert gap >= delay - 0.002, (gaps, delay)
    # Doubling, not the same delay again: the fifth gap is well past the first.
    assert gaps[4] > gaps[0] + 1.0, gaps
    # Reported once per loop, not at every restart.
    assert len([l for l in worker.lines if "crash loop" in l]) == 1, worker.output()
    assert host.workers("dies") == 0
