"""Fixtures for hearth-worker's tests: the real hearth-broker and the real
hearth-worker as processes, test children under /usr/bin/python3, and one
native client. Every process started is stopped by PID at teardown."""

import os
import re

import pytest
import zmq

from hearthtest import P, Process, binary, start_broker, unpack, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PYTHON = "/usr/bin/python3"
CHILD = [PYTHON, os.path.join(HERE, "testchild.py")]
EXAMPLES = os.path.join(REPO, "workers", "examples")


class Host:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.ctx = zmq.Context()
        self.procs = []
        self.broker = start_broker(ctx=self.ctx)
        self.procs.append(self.broker)
        self.endpoint = self.broker.endpoint
        self._clients = []
        self.client = self.new_client()

    def new_client(self):
        from hearthtest import NativeClient
        client = NativeClient(self.ctx, self.endpoint)
        self._clients.append(client)
        return client

    def worker(self, service, *options, cmd=None, wait=True, processes=1, env=None):
        """Starts hearth-worker (with env, if given, as its environment);
        waits until `processes` workers are registered unless wait is False."""
        argv = [binary("HEARTH_WORKER_BIN"), "-s", service, "-b", self.endpoint,
                "-n", str(processes)] + [str(o) for o in options] + ["--"] + (cmd or CHILD)
        proc = Process(argv, name="hearth-worker", env=env)
        self.procs.append(proc)
        if wait:
            self.wait_workers(service, processes, proc=proc)
        return proc

    def workers(self, service):
        """Workers the broker counts for service (0 if it does not know it)."""
        reply = self.client.call(P.HEARTH_SVC_SERVICES, service.encode(), timeout=5)
        assert reply is not None, "broker did not answer hearth.services"
        if reply.status == P.HEARTH_STATUS_NOT_FOUND:
            return 0
        assert reply.status == P.HEARTH_STATUS_OK, reply
        entries = unpack(reply.body)
        return entries[0]["workers"] if entries else 0

    def wait_workers(self, service, count, timeout=30.0, proc=None):
        def check():
            if proc is not None and not proc.alive():
                raise AssertionError("hearth-worker exited:\n" + proc.output())
            return self.workers(service) == count
        wait_until(check, timeout=timeout, what="%d worker(s) of %s" % (count, service))

    def call(self, service, body, deadline_ms=20000, meta=None):
        """One native call; the reply (asserted to come)."""
        meta = dict(meta or {})
        meta.setdefault(P.HEARTH_META_DEADLINE.decode(), deadline_ms)
        if isinstance(body, str):
            body = body.encode()
        reply = self.client.call(service, body, meta=meta, timeout=deadline_ms / 1000.0 + 5)
        assert reply is not None, "no reply to %r within its deadline" % body
        return reply

    def close(self):
        for client in self._clients:
            client.close()
        for proc in reversed(self.procs):
            proc.stop()
        self.ctx.term()


@pytest.fixture
def host(tmp_path):
    h = Host(tmp_path)
    try:
        yield h
    finally:
        h.close()


def reply_pid(reply):
    m = re.search(rb"pid=(\d+)", reply.body)
    assert m, reply
    return int(m.group(1))


def child_pids(proc):
    """PIDs of every child hearth-worker said it started, in order."""
    return [int(m) for m in re.findall(r"\[[^\]]+ pid (\d+)\] started", proc.output(10000))]


def pid_gone(pid):
    """True once pid is neither running nor a zombie (reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            f.read()
        return False
    except FileNotFoundError:
        return True
