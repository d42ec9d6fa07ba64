"""End to end failure handling: worker death and resend (PROTOCOL.md 5.4,
4.4), broker restart (4.4, 4.5), queue bound (5.1) and shutdown (5.6)."""

import json
import signal
import time

DOC = json.dumps({"text": "good and happy"})


def test_kill_worker_mid_request_502(stack):
    """5.4: a non-idempotent request held by a dead worker MUST get 502; 4.4:
    "a killed worker is noticed within one heartbeat, not three"."""
    stack.start_broker("--heartbeat", "200")
    expert = stack.start_expert("--delay-ms", "8000")
    call = stack.cli_async("--timeout", "20000", "call", "sentiment", DOC)
    stack.wait_service(in_flight=1, timeout=10)
    expert.kill()
    rc, out, err, elapsed = stack.cli_result(call)
    assert rc == 6, (rc, out, err)
    assert "502" in err, err
    assert elapsed < 6.0, "502 took %.1f s (deadline 20 s, delay 8 s)" % elapsed


def test_kill_worker_idempotent_resent(stack):
    """5.4: an idempotent request is resent to another worker (attempt 2)."""
    stack.start_broker("--heartbeat", "200")
    first = stack.start_expert("--delay-ms", "8000")
    call = stack.cli_async("--timeout", "20000", "call", "--idempotent", "sentiment", DOC)
    stack.wait_service(in_flight=1, timeout=10)
    stack.start_expert("--delay-ms", "50", workers=2)
    first.kill()
    rc, out, err, elapsed = stack.cli_result(call)
    assert rc == 0, (rc, out, err)
    assert json.loads(out)["opinions"]["sentiment"]["label"] == "positive"
    assert elapsed < 8.0, "the resend took %.1f s: was it served by the dying worker?" % elapsed


def test_broker_restart_workers_reregister(stack):
    """4.4/4.5: after a broker restart the worker re-registers by itself."""
    broker = stack.start_broker("--heartbeat", "200")
    endpoint = broker.endpoint
    stack.start_expert()
    assert stack.cli("call", "sentiment", DOC).returncode == 0
    broker.signal(signal.SIGTERM)
    assert broker.wait(15) == 0
    stack.start_broker("--heartbeat", "200", endpoint=endpoint)
    stack.wait_service("sentiment", workers=1, timeout=30)
    out = stack.cli("--timeout", "10000", "call", "sentiment", DOC)
    assert out.returncode == 0, out
    assert "sentiment" in json.loads(out.stdout)["opinions"]


def test_queue_full_exit_7(stack):
    """5.1: "a native or route request for a service that is full MUST get
    503"."""
    stack.start_broker("--queue-max", "1")
    stack.start_expert("--delay-ms", "1500")
    calls = [stack.cli_async("--timeout", "20000", "call", "sentiment", DOC) for _ in range(5)]
    results = [stack.cli_result(c) for c in calls]
    codes = sorted(r[0] for r in results)
    assert 7 in codes, results
    assert 0 in codes, results
    assert set(codes) <= {0, 7}, results
    for rc, out, err, _ in results:
        if rc == 7:
            assert "503" in err, err


def test_sigterm_with_request_in_flight(stack):
    """5.6: the in-flight request completes within the grace; exit 0."""
    broker = stack.start_broker("--grace", "5000")
    stack.start_expert("--delay-ms", "1000")
    call = stack.cli_async("--timeout", "20000", "call", "sentiment", DOC)
    stack.wait_service(in_flight=1, timeout=10)
    t0 = time.monotonic()
    broker.signal(signal.SIGTERM)
    rc, out, err, _ = stack.cli_result(call)
    assert rc == 0, (rc, out, err)
    assert json.loads(out)["opinions"]["sentiment"]["label"] == "positive"
    code = broker.wait(10)
    assert code == 0, code
    assert time.monotonic() - t0 < 6.5
