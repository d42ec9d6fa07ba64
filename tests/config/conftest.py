"""Fixtures shared by the `hearth up` tests."""

import pytest


@pytest.fixture
def ups():
    """Every HearthUp a test appends here is killed (by PID) at teardown."""
    started = []
    yield started
    for up in started:
        up.proc.kill()
