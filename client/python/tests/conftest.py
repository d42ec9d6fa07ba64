"""Fixtures for the hearth Python library tests: the real broker (started
by tests/lib/hearthtest.py from $HEARTH_BROKER_BIN) and workers served by
the library, in a thread or in a child process. Every wait is bounded."""

import contextlib
import os
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYROOT = os.path.dirname(HERE)                       # client/python
REPO = os.path.abspath(os.path.join(PYROOT, "..", ".."))
if PYROOT not in sys.path:
    sys.path.insert(0, PYROOT)

import hearth  # noqa: E402
import hearthtest  # noqa: E402  (tests/lib, on PYTHONPATH from ctest)


@pytest.fixture
def broker():
    b = hearthtest.start_broker()
    yield b
    b.stop()


@pytest.fixture
def client(broker):
    with hearth.Client(broker.endpoint, name="pytest", timeout=10.0) as c:
        yield c


def wait_workers(client, service, count, timeout=15.0):
    """Polls hearth.services until service has `count` workers."""
    def ready():
        try:
            return client.services(service)[0]["workers"] == count
        except hearth.NoSuchService:
            return False
    hearthtest.wait_until(ready, timeout=timeout, what="%d worker(s) of %s" % (count, service))


@contextlib.contextmanager
def thread_worker(endpoint, service, handler, **options):
    """A Worker serving in a thread for the duration of the block."""
    worker = hearth.Worker(service, handler, broker=endpoint, **options)
    failure = []

    def run():
        try:
            worker.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not worker.registered.wait(0.05):
            assert not failure, failure
            assert time.monotonic() < deadline, "worker %s did not register" % service
        yield worker
    finally:
        worker.stop()
        thread.join(15)
        assert not thread.is_alive(), "worker %s did not stop" % service
    assert not failure, failure


def python_env(**extra):
    """Environment for child Python processes: the library on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PYROOT, env.get("PYTHONPATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env
