"""End to end: the real `hearth` CLI, broker and sentiment expert (CLI
exit codes as in docs/cli.md; PROTOCOL.md 3.2, 5.1, 8.2)."""

import json
import socket
import time

import pytest

from hearthtest import run_cli

DOC = {"text": "I love this, it is great and wonderful", "id": 7, "opinions": {"other": {"x": 1}}}


@pytest.fixture
def served(stack):
    stack.start_broker()
    stack.start_expert()
    return stack


def test_call_returns_opinion(served):
    out = served.cli("call", "sentiment", json.dumps(DOC))
    assert out.returncode == 0, out
    doc = json.loads(out.stdout)
    assert doc["id"] == 7 and doc["text"] == DOC["text"], "other keys must be kept"
    assert doc["opinions"]["other"] == {"x": 1}
    op = doc["opinions"]["sentiment"]
    assert set(op) >= {"label", "score", "positive", "negative", "words"}, op
    assert op["label"] == "positive"
    assert op["positive"] >= 2 and op["negative"] == 0
    assert op["words"] >= 8 and op["score"] > 0


def test_call_negative_and_stdin(served):
    out = served.cli("call", "sentiment", "-", input_data=json.dumps({"text": "awful, terrible, I hate it"}))
    assert out.returncode == 0, out
    op = json.loads(out.stdout)["opinions"]["sentiment"]
    assert op["label"] == "negative" and op["negative"] >= 2 and op["score"] < 0


def test_bad_json_exit_8(served):
    out = served.cli("call", "sentiment", "{not json")
    assert out.returncode == 8, out
    assert "400" in out.stderr, out.stderr
    out = served.cli("call", "sentiment", "[1, 2]")
    assert out.returncode == 8, out


def test_unknown_service_exit_5(served):
    out = served.cli("call", "no-such-service", "{}")
    assert out.returncode == 5, out
    assert "404" in out.stderr


def test_broker_not_running_exit_3():
    """No broker: exit 3 within a few seconds."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                      # nothing listens there now
    t0 = time.monotonic()
    out = run_cli("tcp://127.0.0.1:%d" % port, "call", "sentiment", "{}", timeout_s=30)
    elapsed = time.monotonic() - t0
    assert out.returncode == 3, out
    assert elapsed < 5.0, "took %.1f s to give up" % elapsed
    out = run_cli("tcp://127.0.0.1:%d" % port, "ping", timeout_s=30)
    assert out.returncode == 3, out


def test_timeout_exit_4(stack):
    stack.start_broker()
    stack.start_expert("--delay-ms", "5000")
    t0 = time.monotonic()
    out = stack.cli("--timeout", "300", "call", "sentiment", "{}")
    elapsed = time.monotonic() - t0
    assert out.returncode == 4, out
    assert elapsed < 3.0, "a 300 ms call took %.1f s" % elapsed


def test_deadline_passed_broker_still_serves(stack):
    """5.3: the 504 for a passed deadline, then the broker serves on."""
    stack.start_broker()
    stack.start_expert("--delay-ms", "1000")
    out = stack.cli("--timeout", "200", "call", "sentiment", json.dumps(DOC))
    assert out.returncode == 4, out
    assert stack.cli("ping").returncode == 0
    out = stack.cli("--timeout", "10000", "call", "sentiment", json.dumps(DOC))
    assert out.returncode == 0, out
    assert json.loads(out.stdout)["opinions"]["sentiment"]["label"] == "positive"


def test_services_table_and_json(stack):
    """8.2: hearth.services lists the service with its descriptor."""
    stack.start_broker()
    stack.start_expert("--version-string", "9.8.7")
    listing = stack.services()
    entry = [e for e in listing if e["name"] == "sentiment"][0]
    assert entry["workers"] == 1 and entry["mdp_workers"] == 0
    for key in ("credit", "in_flight", "queued", "descriptor"):
        assert key in entry
    desc = entry["descriptor"]
    assert desc["version"] == "9.8.7"
    assert isinstance(desc.get("description"), str) and desc["description"]
    assert "example" in desc and "input_schema" in desc
    one = stack.services("sentiment")
    assert [e["name"] for e in one] == ["sentiment"]
    table = stack.cli("services")
    assert table.returncode == 0, table
    lines = table.stdout.strip().splitlines()
    header = lines[0].split()
    for col in ("SERVICE", "WORKERS", "MDP", "CREDIT", "IN-FLIGHT", "QUEUED", "VERSION", "DESCRIPTION"):
        assert col in header, lines[0]
    row = [ln for ln in lines[1:] if ln.split()[0] == "sentiment"]
    assert row, table.stdout
    assert "9.8.7" in row[0] and desc["description"][:20] in row[0]
    out = stack.cli("services", "nothing-here")
    assert out.returncode == 5, out


def test_ping(served):
    out = served.cli("ping")
    assert out.returncode == 0
    assert "pong from %s" % served.endpoint in out.stdout, out.stdout


def test_expert_sigterm_exit_0(served):
    expert = served.procs[-1]
    expert.signal(15)
    assert expert.wait(10) == 0
