"""`python3 -m hearth serve` with the example expert, and installing the
package with pip from the source tree without network."""

import os
import shutil
import signal
import subprocess
import sys

from conftest import PYROOT, REPO, python_env, wait_workers

import hearth
import hearthtest

EXAMPLES = os.path.join(REPO, "workers", "examples")


def serve(endpoint, *args, cwd=EXAMPLES):
    argv = [sys.executable, "-m", "hearth", "serve"] + list(args) + ["-b", endpoint]
    return hearthtest.Process(["/usr/bin/env", "-C", cwd] + argv, name="hearth-serve",
                              env=python_env())


def test_serve_module_function_then_sigterm_exits_0(broker, client):
    worker = serve(broker.endpoint, "py_expert:keywords", "-s", "kw", "-n", "2",
                   "--version-string", "9.9", "--description", "from the CLI")
    try:
        wait_workers(client, "kw", 1)
        reply = client.request("kw", {"text": "the cat sat on the cat mat, said the cat"})
        assert reply.doc["opinions"]["keywords"] == ["cat", "sat", "mat", "said"]
        assert reply.meta["version"] == "9.9"
        desc = client.services("kw")[0]["descriptor"]
        assert desc["description"] == "from the CLI" and desc["concurrency"] == 2
        assert desc["idempotent"] is True        # from the @expert decorator
        with __import__("pytest").raises(hearth.BadRequest):
            client.call("kw", {"no": "text"})
        worker.signal(signal.SIGTERM)
        assert worker.wait(15) == 0, worker.output()
        hearthtest.wait_until(lambda: _gone(client, "kw"), what="worker gone")
    finally:
        worker.kill()


def _gone(client, service):
    try:
        return client.services(service)[0]["workers"] == 0
    except hearth.NoSuchService:
        return True


def test_serve_every_expert_of_a_file(broker, client):
    worker = serve(broker.endpoint, os.path.join(EXAMPLES, "py_expert.py"), cwd="/")
    try:
        wait_workers(client, "keywords", 1)
        assert client.call("keywords", {"text": "Hearth hearth warm"})["opinions"] == \
            {"keywords": ["hearth", "warm"]}
        worker.signal(signal.SIGINT)
        assert worker.wait(15) == 0, worker.output()
    finally:
        worker.kill()


def test_serve_usage_errors_exit_2(broker):
    for args in (["no_such_module:f"], ["py_expert:no_such_function"], ["py_expert:top_words"]):
        worker = serve(broker.endpoint, *args)
        assert worker.wait(30) == 2, (args, worker.output())
        worker.stop()
    assert "cannot import" in serve(broker.endpoint, "nope:f").wait_line("cannot import").group(0)


def test_pip_install_into_a_target_then_import(tmp_path):
    #   Built from a copy: pip builds in the tree, which must stay clean.
    source = tmp_path / "src"
    shutil.copytree(PYROOT, source, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "target"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                           "--no-deps", "--no-index", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1")
    probe = subprocess.run([sys.executable, "-c",
                            "import hearth, zmq; print(hearth.__file__); "
                            "print(hearth.__version__, hearth.Client, hearth.expert)"],
                           capture_output=True, text=True, timeout=60, cwd=str(tmp_path), env=env)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(target))
