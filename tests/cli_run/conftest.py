"""Fixtures of the `hearth run` tests: the end-to-end stack of tests/e2e
(real broker, experts and CLI as processes, stopped by PID at teardown),
loaded under its own module name so the two conftest files never clash."""

import importlib.util
import os

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "conftest.py")
_SPEC = importlib.util.spec_from_file_location("hearth_e2e_stack", _PATH)
_E2E = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_E2E)

stack = _E2E.stack      # noqa: F401 - the fixture, re-exported for pytest
