"""`hearth run` (bulk JSON lines) and `hearth call --route`, against the real
hearth-broker and hearth-expert-sentiment (docs/cli.md, "run")."""

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time

from hearthtest import binary, start_expert, wait_until


def docs(n, bad=(), blank=()):
    """n input lines: document i is {"i": i, "text": ...}; line numbers (1-based)
    in bad are not JSON, those in blank are empty."""
    lines = []
    for i in range(n):
        line = i + 1
        if line in bad:
            lines.append('{"i": %d, "text": ' % i)
        elif line in blank:
            lines.append("   ")
        else:
            lines.append(json.dumps({"i": i, "text": "good day" if i % 3 else "bad day"}))
    return "\n".join(lines) + "\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def run(stack, route, infile, *options, timeout_s=120):
    """`hearth -b EP run OPTIONS ROUTE < infile`: (exit code, stdout lines, stderr)."""
    argv = [binary("HEARTH_CLI_BIN"), "-b", stack.endpoint, "run"] + [str(o) for o in options] + [route]
    with open(infile, "rb") as f:
        p = subprocess.run(argv, stdin=f, capture_output=True, text=True, timeout=timeout_s)
    return p.returncode, p.stdout.splitlines(), p.stderr


def read_errors(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_1000_docs_in_input_order(stack, tmp_path):
    """Many in flight over several workers and handler threads, so replies
    come back out of order: the output is still in input order, one line per
    document, each with the expert's opinion."""
    stack.start_broker()
    stack.start_expert("-n", "4", "--delay-ms", "2")
    stack.start_expert("-n", "4", "--delay-ms", "3", workers=2)
    infile = write(tmp_path, "in.jsonl", docs(1000))
    rc, out, err = run(stack, "sentiment", infile, "-j", "50")
    assert rc == 0, err
    assert len(out) == 1000, err
    for i, line in enumerate(out):
        doc = json.loads(line)
        assert doc["i"] == i, (i, line)
        assert doc["opinions"]["sentiment"]["label"] in ("positive", "negative"), line
    assert "hearth run: 1000 docs, 0 errors" in err, err


def test_bad_json_and_blank_lines(stack, tmp_path):
    """A line that is not JSON fails with 400 without being sent, into the
    errors file with its line number and text; blank lines are skipped; the
    exit code is non-zero (8: refused)."""
    stack.start_broker()
    stack.start_expert()
    infile = write(tmp_path, "in.jsonl", docs(20, bad={3}, blank={5, 6}))
    errors = tmp_path / "errors.jsonl"
    rc, out, err = run(stack, "sentiment", infile, "--errors", errors)
    assert rc == 8, (rc, err)
    assert [json.loads(line)["i"] for line in out] == [i for i in range(20) if i + 1 not in (3, 5, 6)]
    entries = read_errors(errors)
    assert len(entries) == 1, entries
    assert entries[0]["line"] == 3 and entries[0]["status"] == 400, entries
    assert entries[0]["document"] == '{"i": 2, "text": ', entries
    assert "JSON" in entries[0]["error"], entries
    assert "18 docs, 1 errors, 2 blank lines skipped" in err, err


def test_most_common_failure_class_and_stderr_report(stack, tmp_path):
    """Exit code: that of the most common failure. Without --errors the
    failures are reported on stderr. Every document has its error line."""
    stack.start_broker()
    infile = write(tmp_path, "in.jsonl", docs(4, bad={2}))
    rc, out, err = run(stack, "nothere", infile)
    assert rc == 5, (rc, err)           # three 404s beat one 400
    assert out == []
    assert err.count("hearth: run: line ") == 4, err
    assert "404" in err and "400" in err, err
    errors = tmp_path / "errors.jsonl"
    rc, out, err = run(stack, "nothere", infile, "--errors", errors)
    entries = read_errors(errors)
    assert [e["line"] for e in entries] == [1, 2, 3, 4], entries
    assert [e["status"] for e in entries] == [404, 400, 404, 404], entries
    assert entries[0]["document"] == {"i": 0, "text": "bad day"}, entries


def test_killed_worker_no_document_lost_or_duplicated(stack, tmp_path):
    """The issue's test: 1,000 documents, a worker killed (SIGKILL) in the
    middle while another serves. With --idempotent the broker resends what
    the dead worker held: every document comes out exactly once, in order."""
    stack.start_broker("--heartbeat", "200")
    victim = stack.start_expert("-n", "4", "--delay-ms", "20")
    stack.start_expert("-n", "4", "--delay-ms", "20", workers=2)
    infile = write(tmp_path, "in.jsonl", docs(1000))
    outfile = tmp_path / "out.jsonl"
    argv = [binary("HEARTH_CLI_BIN"), "-b", stack.endpoint, "run", "-j", "50",
            "--idempotent", "--timeout", "60000", "sentiment"]
    with open(infile, "rb") as fin, open(outfile, "wb") as fout:
        p = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                             start_new_session=True)
        stack.calls.append(p)

        def lines_out():
            with open(outfile, "rb") as f:
                return f.read().count(b"\n")
        wait_until(lambda: lines_out() >= 150, timeout=60, what="150 documents done")
        assert lines_out() < 1000, "the run ended before the kill: make the expert slower"
        in_flight = stack.service_entry("sentiment")
        victim.kill()
        _, err = p.communicate(timeout=120)
    err = err.decode()
    assert p.returncode == 0, err
    out = outfile.read_text().splitlines()
    assert [json.loads(line)["i"] for line in out] == list(range(1000)), err
    assert all("sentiment" in json.loads(line)["opinions"] for line in out)
    assert "1000 docs, 0 errors" in err, (err, in_flight)
    # The kill must have cost the victim requests, or nothing was resent.
    held = stack.broker.wait_line(r"of 'sentiment' removed: .*\((\d+) requests? held\)", timeout=10)
    assert int(held.group(1)) > 0, held.group(0)


def test_sigint_finishes_what_was_read(stack, tmp_path):
    """SIGINT: no new line is read, the documents in flight are finished and
    written, exit 130. Every line read has its output, nothing after it."""
    stack.start_broker()
    stack.start_expert("-n", "4", "--delay-ms", "100")
    infile = write(tmp_path, "in.jsonl", docs(500))
    outfile = tmp_path / "out.jsonl"
    argv = [binary("HEARTH_CLI_BIN"), "-b", stack.endpoint, "run", "-j", "8", "sentiment"]
    with open(infile, "rb") as fin, open(outfile, "wb") as fout:
        p = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                             start_new_session=True)
        stack.calls.append(p)
        wait_until(lambda: outfile.read_bytes().count(b"\n") >= 8, timeout=60,
                   what="8 documents done")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    err = err.decode()
    assert p.returncode == 130, err
    m = re.search(r"stopped after input line (\d+)", err)
    assert m, err
    read = int(m.group(1))
    assert read < 500, err
    out = outfile.read_text().splitlines()
    assert [json.loads(line)["i"] for line in out] == list(range(read)), err


def test_unreachable_broker_fails_every_document(tmp_path):
    """No broker: every document gets an error line (nothing lost), exit 3."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    infile = write(tmp_path, "in.jsonl", docs(5))
    errors = tmp_path / "errors.jsonl"
    argv = [binary("HEARTH_CLI_BIN"), "-b", "tcp://127.0.0.1:%d" % port, "run",
            "--errors", str(errors), "sentiment"]
    with open(infile, "rb") as f:
        p = subprocess.run(argv, stdin=f, capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, p
    assert p.stdout == ""
    assert [e["line"] for e in read_errors(errors)] == [1, 2, 3, 4, 5]


def test_usage_errors():
    cli = binary("HEARTH_CLI_BIN")
    for args in (["run"], ["run", "-j", "0", "x"], ["run", "-j"], ["run", "a", "b"],
                 ["run", "--bogus", "x"], ["call", "--route"]):
        p = subprocess.run([cli] + args, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 2, (args, p)
        assert p.stderr.startswith("hearth: "), (args, p.stderr)
    p = subprocess.run([cli, "run", "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "--errors FILE" in p.stdout, p


def test_progress_on_a_terminal(stack, tmp_path):
    """stderr a terminal: a progress line with done/total (stdin a regular
    file), rate, ETA and errors, then the summary."""
    stack.start_broker()
    stack.start_expert("--delay-ms", "1")
    infile = write(tmp_path, "in.jsonl", docs(300))
    master, slave = pty.openpty()
    argv = [binary("HEARTH_CLI_BIN"), "-b", stack.endpoint, "run", "-j", "4", "sentiment"]
    with open(infile, "rb") as fin:
        p = subprocess.Popen(argv, stdin=fin, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:         # EIO: the other side closed
                break
            if not chunk:
                break
            seen += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    assert p.wait(30) == 0, seen
    text = seen.decode(errors="replace")
    assert "/300 docs" in text and "docs/s" in text and "ETA" in text, text
    assert "300 docs, 0 errors" in text, text


def start_second_expert(stack):
    """sentiment2: a second service, so a route has two different stages."""
    expert = start_expert(stack.endpoint, "-s", "sentiment2")
    stack.procs.append(expert)
    stack.wait_service("sentiment2", 1)


def test_route_through_two_stages(stack, tmp_path):
    stack.start_broker("--pipeline", "both=sentiment,sentiment2")
    stack.start_expert("-n", "2")
    start_second_expert(stack)
    infile = write(tmp_path, "in.jsonl", docs(200))
    for route in ("sentiment,sentiment2", "both"):
        rc, out, err = run(stack, route, infile, "-j", "20")
        assert rc == 0, (route, err)
        assert [json.loads(line)["i"] for line in out] == list(range(200)), err
        for line in out:
            assert set(json.loads(line)["opinions"]) == {"sentiment", "sentiment2"}, line


def test_call_route_prints_document_and_trace(stack):
    stack.start_broker()
    stack.start_expert()
    start_second_expert(stack)
    out = stack.cli("call", "--meta", "--route", "sentiment,sentiment2", '{"text": "good"}')
    assert out.returncode == 0, out
    assert set(json.loads(out.stdout)["opinions"]) == {"sentiment", "sentiment2"}, out
    meta = json.loads(out.stderr.splitlines()[-1])
    assert [t["service"] for t in meta["trace"]] == ["sentiment", "sentiment2"], meta
    bad = stack.cli("call", "--route", "sentiment,nothere", '{"text": "good"}')
    assert bad.returncode == 5, bad
    assert "stage 1" in bad.stderr and "nothere" in bad.stderr, bad.stderr
