"""`hearth up -c mesh.yml` end to end: the real hearth CLI starts the real
broker and workers; the tests poll for readiness (never a fixed sleep), call
through the mesh, kill a worker and watch it come back, and check that
SIGTERM stops everything with exit 0 and leaves no process behind.

Worker services use hearth-expert-sentiment (a program that speaks Hearth
itself). A `command` service is added when hearth-worker is built
(HEARTH_WORKER_BIN)."""

import json
import os
import re
import signal
import subprocess

import pytest

from hearthtest import HearthUp, binary, children_of, gone, run_cli, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def write_mesh(tmp_path, text):
    path = tmp_path / "mesh.yml"
    path.write_text(text)
    return str(path)


def env_with_bins():
    env = dict(os.environ)
    # `hearth up` finds its siblings next to itself; the test binaries are
    # the build's own, so the overrides only make that explicit.
    env["HEARTH_BROKER_BIN"] = binary("HEARTH_BROKER_BIN")
    return env


def Up(config, *extra):
    """`hearth up [-c config] EXTRA...` with the build's binaries."""
    return HearthUp((["-c", config] if config else []) + list(extra), env=env_with_bins())


SMALL_MESH = """
broker:
  bind: [tcp://127.0.0.1:*]
  grace_ms: 500
services:
  sentiment:
    worker: [hearth-expert-sentiment, --service, sentiment]
    processes: 2
  mood:
    worker: [hearth-expert-sentiment, --service, mood]
pipelines:
  both: sentiment,mood
"""


def test_up_serves_restarts_and_stops_cleanly(tmp_path, ups):
    up = Up(write_mesh(tmp_path, SMALL_MESH))
    ups.append(up)
    up.wait_ready()
    table = up.proc.output()
    assert re.search(r"^sentiment\s+2/2\s+\S+\s+hearth-expert-sentiment --service sentiment$",
                     table, re.M), table
    assert re.search(r"^mood\s+1/1\s", table, re.M), table
    assert "pipeline both = sentiment,mood" in table

    # A call through the pipeline given to the broker on its command line.
    done = run_cli(up.endpoint, "call", "both", '{"text": "I love this"}')
    assert done.returncode == 0, done.stderr
    opinions = json.loads(done.stdout)["opinions"]
    assert set(opinions) == {"sentiment", "mood"}

    # Kill one worker: it is restarted and the service gets its workers back.
    workers = [p for p in children_of(up.proc.pid) if p != up.broker_pid]
    assert len(workers) == 3, workers
    mark = len(up.proc.lines)
    os.kill(workers[0], signal.SIGKILL)
    up.proc.wait_line(r"\(pid %d\) killed by signal 9.*restarting in \d+ ms" % workers[0],
                      timeout=10.0, start=mark)

    def all_back():
        now = [p for p in children_of(up.proc.pid) if p != up.broker_pid]
        return len(now) == 3 and workers[0] not in now and now
    replacement = wait_until(all_back, timeout=20.0, what="the worker restarted")

    def serving():
        out = run_cli(up.endpoint, "services", "--json")
        counts = {s["name"]: s["workers"] for s in json.loads(out.stdout)} if out.returncode == 0 else {}
        return counts.get("sentiment") == 2 and counts.get("mood") == 1
    wait_until(serving, timeout=20.0, interval=0.2, what="workers registered again")
    done = run_cli(up.endpoint, "call", "mood", '{"text": "bad"}')
    assert done.returncode == 0, done.stderr

    # SIGTERM: the broker first (it serves what it accepted and exits),
    # then the workers; exit 0; nothing left.
    everyone = replacement + [up.broker_pid]
    assert up.stop() == 0, up.proc.output()
    out = up.proc.output()
    assert "stopping the broker (it serves what it accepted), then 3 worker processes" in out, out
    broker_gone = out.index("hearth-broker[%d] info: stopped:" % up.broker_pid)
    for pid in replacement:
        assert broker_gone < out.index("hearth-expert-sentiment[%d] info: stopped" % pid), out
    wait_until(lambda: all(gone(p) for p in everyone), timeout=10.0, what="children gone")


def test_up_killed_takes_its_children_along(tmp_path, ups):
    """A supervisor that dies without cleaning up (SIGKILL) must not leave
    a mesh running: the children get SIGTERM from the kernel."""
    up = Up(write_mesh(tmp_path, SMALL_MESH))
    ups.append(up)
    up.wait_ready()
    kids = children_of(up.proc.pid)
    assert len(kids) == 4, kids
    up.proc.kill()
    wait_until(lambda: all(gone(p) for p in kids), timeout=20.0, what="orphans gone")


def test_up_reports_crash_loop_without_spinning(tmp_path, ups):
    mesh = write_mesh(tmp_path, """
broker:
  bind: [tcp://127.0.0.1:*]
  grace_ms: 100
services:
  broken:
    worker: [/bin/false]
  sentiment:
    worker: [hearth-expert-sentiment]
""")
    up = Up(mesh)
    ups.append(up)
    up.proc.wait_line(r"broken: crash loop: died 5 times within 30 s", timeout=30.0)
    # The supervisor reports the loop before it logs the fifth delay: wait
    # for that line too, or the list below may still be one short.
    up.proc.wait_line(r"broken \(pid \d+\).*restarting in 1600 ms", timeout=30.0)
    # Backoff doubles from 100 ms, so 5 deaths take at least 1.5 s; then the
    # next tries are seconds apart, not a spin.
    deaths = [l for l in up.proc.lines if "broken (pid" in l and "restarting in" in l]
    delays = [int(re.search(r"restarting in (\d+) ms", l).group(1)) for l in deaths]
    assert delays[:5] == [100, 200, 400, 800, 1600], delays
    assert not any(l == "ready" for l in up.proc.lines)
    assert up.stop() == 0, up.proc.output()


def test_up_refuses_a_bad_config(tmp_path):
    bad = write_mesh(tmp_path, "services:\n  a:\n    worker: [x]\n    procesess: 2\n")
    done = subprocess.run([binary("HEARTH_CLI_BIN"), "up", "-c", bad], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 1
    assert "%s:4:5: unknown key 'procesess' in service 'a'" % bad in done.stderr


def test_up_refuses_a_missing_program(tmp_path):
    mesh = write_mesh(tmp_path, "services:\n  a:\n    worker: [no-such-program-here]\n")
    done = subprocess.run([binary("HEARTH_CLI_BIN"), "up", "-c", mesh], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 1
    assert "service 'a': program 'no-such-program-here' not found" in done.stderr


def test_up_check_loads_the_deploy_example_and_the_default():
    cli = binary("HEARTH_CLI_BIN")
    done = subprocess.run([cli, "up", "--check", "-c", os.path.join(SOURCE, "deploy", "mesh.yml")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "4 services, 2 pipelines" in done.stdout
    done = subprocess.run([cli, "up", "--check"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("(default mesh): ok")
    printed = subprocess.run([cli, "up", "--print-default"], capture_output=True, text=True,
                             timeout=30)
    assert printed.returncode == 0 and "services:" in printed.stdout


@pytest.mark.skipif(not os.environ.get("HEARTH_WORKER_BIN"), reason="hearth-worker not built")
def test_up_command_service_through_hearth_worker(tmp_path, ups):
    script = tmp_path / "echo_expert.py"
    script.write_text(
        "import json, sys\n"
        "print('LOADED', flush=True)\n"
        "for line in sys.stdin:\n"
        "    doc = json.loads(line)\n"
        "    doc.setdefault('opinions', {})['echo'] = len(line)\n"
        "    print(json.dumps(doc), flush=True)\n")
    mesh = write_mesh(tmp_path, """
broker:
  bind: [tcp://127.0.0.1:*]
  grace_ms: 500
services:
  echo:
    command: [/usr/bin/python3, echo_expert.py]
    processes: 2
    ready_line: LOADED
    version: "2.5"
  sentiment:
    worker: [hearth-expert-sentiment]
pipelines:
  both: echo,sentiment
""")
    env_worker = os.environ["HEARTH_WORKER_BIN"]
    up = Up(mesh)
    ups.append(up)
    up.wait_ready(timeout=90.0)
    assert re.search(r"^echo\s+2/2\s+2\.5\s+/usr/bin/python3 echo_expert.py$",
                     up.proc.output(), re.M), up.proc.output()
    done = run_cli(up.endpoint, "call", "both", '{"text": "good"}')
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["opinions"]) == {"echo", "sentiment"}
    kids = children_of(up.proc.pid)
    assert up.stop() == 0, up.proc.output()
    wait_until(lambda: all(gone(p) for p in kids), timeout=10.0, what="children gone")
    assert os.path.basename(env_worker) == "hearth-worker"


def test_up_without_config_runs_the_default_mesh(ups):
    """The README's main-job command, on a free port: every example expert
    that is built and present comes up, and the pipeline runs them all."""
    up = Up(None, "--bind", "tcp://127.0.0.1:*")
    ups.append(up)
    up.wait_ready(timeout=120.0)
    out = up.proc.output()
    assert re.search(r"^sentiment\s+1/1\s", out, re.M), out
    present = {name for name in ("wordcount", "slowstart", "keywords")
               if re.search(r"^%s\s+(\d+)/\1\s" % name, out, re.M)}
    left_out = {name for name in ("wordcount", "slowstart", "keywords")
                if re.search(r"leaving out %s:" % name, out)}
    assert present | left_out == {"wordcount", "slowstart", "keywords"}, out
    if "pipeline opinions = wordcount,[sentiment,keywords]" in out:
        done = run_cli(up.endpoint, "call", "opinions", '{"text": "a good warm day"}')
        assert done.returncode == 0, done.stderr
        assert set(json.loads(done.stdout)["opinions"]) == {"wordcount", "sentiment", "keywords"}
    else:
        # The pipeline is left out only with one of its services.
        assert not {"wordcount", "keywords"} <= present, out
    done = run_cli(up.endpoint, "call", "sentiment", '{"text": "I love this"}')
    assert done.returncode == 0, done.stderr
    kids = children_of(up.proc.pid)
    assert up.stop() == 0, up.proc.output()
    wait_until(lambda: all(gone(p) for p in kids), timeout=10.0, what="children gone")
