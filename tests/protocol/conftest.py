"""Fixtures for the protocol tests: a real hearth-broker per test (or per
module), and a Mesh of raw peers speaking frames to it."""

import pytest

from hearthtest import Mesh, start_broker


class Env:
    """One broker plus the raw peers of a test."""

    def __init__(self, broker):
        self.broker = broker
        self.endpoint = broker.endpoint
        self.mesh = Mesh(broker.endpoint)

    def close(self):
        self.mesh.close()


def _finish(env):
    """Closes the peers and stops the broker; fails if the broker died during
    the test (a crash on input) or did not exit 0 on SIGTERM (a leak under
    ASan, or a bad shutdown)."""
    env.close()
    broker = env.broker
    crashed = not broker.alive() and not getattr(broker, "expected_exit", False)
    rc = broker.stop(timeout=15)
    print("---- broker output (%s) ----\n%s" % (" ".join(broker.argv), broker.output(200)))
    if crashed:
        pytest.fail("the broker exited on its own during the test with %r" % rc)
    if rc != 0 and not getattr(broker, "expected_exit", False):
        pytest.fail("the broker exited %r on SIGTERM (want 0)" % rc)


@pytest.fixture
def hearth():
    """Factory: hearth(*broker_options) -> Env with a ready broker. Every
    broker started is stopped (and checked) at teardown."""
    envs = []

    def start(*options):
        env = Env(start_broker("--grace", "300", *options))
        envs.append(env)
        return env

    yield start
    failures = []
    for env in envs:
        try:
            _finish(env)
        except BaseException as e:  # noqa: B902 - report every broker, then fail
            failures.append(e)
    if failures:
        raise failures[0]


@pytest.fixture
def env(hearth):
    """A broker with default settings."""
    return hearth()


@pytest.fixture
def fast(hearth):
    """A broker with heartbeat 100 ms (dead after 300 ms of silence)."""
    return hearth("--heartbeat", "100")
