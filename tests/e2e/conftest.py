"""Fixtures for the end-to-end tests: the real hearth-broker, the real
hearth-expert-sentiment and the real hearth CLI, all as processes. Every
process started is stopped by PID at teardown (SIGTERM, bounded wait,
SIGKILL)."""

import json
import os
import signal
import subprocess
import time

import pytest

from hearthtest import Broker, binary, run_cli, start_expert


class Stack:
    def __init__(self):
        self.procs = []
        self.calls = []
        self.broker = None

    def start_broker(self, *options, endpoint="tcp://127.0.0.1:*"):
        broker = Broker(*options, endpoint=endpoint)
        self.procs.append(broker)
        self.broker = broker
        self.wait_ping()
        return broker

    @property
    def endpoint(self):
        return self.broker.endpoint

    def cli(self, *args, timeout_s=60, input_data=None, endpoint=None):
        return run_cli(endpoint or self.endpoint, *args, timeout_s=timeout_s, input_data=input_data)

    def wait_ping(self, timeout=15.0):
        """Polls `hearth ping` until it exits 0."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.cli("--timeout", "1000", "ping", timeout_s=10)
            if last.returncode == 0:
                return last
            time.sleep(0.05)
        raise AssertionError("hearth ping never succeeded: %r" % last)

    def services(self, name=None):
        """`hearth services --json [name]` parsed, or None if it failed."""
        args = ["--timeout", "2000", "services", "--json"] + ([name] if name else [])
        out = self.cli(*args, timeout_s=10)
        if out.returncode != 0:
            return None
        try:
            return json.loads(out.stdout)
        except ValueError:
            return None

    def service_entry(self, name):
        listing = self.services() or []
        for entry in listing:
            if entry.get("name") == name:
                return entry
        return None

    def wait_service(self, name="sentiment", workers=1, in_flight=None, timeout=20.0):
        """Polls `hearth services --json` until `name` has at least `workers`
        workers (and exactly `in_flight` requests at workers, if given)."""
        deadline = time.monotonic() + timeout
        entry = None
        while time.monotonic() < deadline:
            entry = self.service_entry(name)
            if entry and entry.get("workers", 0) >= workers and \
                    (in_flight is None or entry.get("in_flight") == in_flight):
                return entry
            time.sleep(0.05)
        raise AssertionError("service %s never reached workers>=%d in_flight=%r: last %r"
                             % (name, workers, in_flight, entry))

    def start_expert(self, *options, wait=True, workers=None):
        before = (self.service_entry("sentiment") or {}).get("workers", 0) if wait else 0
        expert = start_expert(self.endpoint, *options)
        self.procs.append(expert)
        if wait:
            self.wait_service("sentiment", workers or before + 1)
        return expert

    def track_expert(self, service, *options):
        """Starts an expert serving `service` and waits until it is listed."""
        expert = start_expert(self.endpoint, "-s", service, *options)
        self.procs.append(expert)
        self.wait_service(service, 1)
        return expert

    def cli_async(self, *args):
        """Starts `hearth -b ENDPOINT ARGS` without waiting; finish with
        cli_result(). Killed at teardown if still running."""
        argv = [binary("HEARTH_CLI_BIN"), "-b", self.endpoint] + [str(a) for a in args]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        p.started = time.monotonic()
        self.calls.append(p)
        return p

    @staticmethod
    def cli_result(p, timeout=30):
        """(exit code, stdout, stderr, seconds since start) of a cli_async."""
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err, time.monotonic() - p.started

    def stop_all(self):
        for p in self.calls:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(10)
        # workers first, so they do not spend their shutdown reconnecting
        for p in reversed(self.procs):
            p.stop(timeout=10)
        for p in self.procs:
            print("---- %s (pid %d, exit %r) ----\n%s" % (" ".join(p.argv), p.pid,
                                                          p.proc.returncode, p.output(60)))


@pytest.fixture
def stack():
    s = Stack()
    yield s
    s.stop_all()
