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
    #   PEP 561: the type hints ship with the package.
    assert (target / "hearth" / "py.typed").is_file()


def test_cmake_install_ships_the_package_with_its_type_hints(tmp_path):
    # The install rule in client/CMakeLists.txt, component "python" only.
    build, cmake = os.environ.get("HEARTH_BUILD_DIR"), os.environ.get("HEARTH_CMAKE")
    assert build and cmake, "HEARTH_BUILD_DIR and HEARTH_CMAKE are set by ctest (python.serve)"
    done = subprocess.run([cmake, "--install", build, "--prefix", str(tmp_path),
                           "--component", "python"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    [package] = list(tmp_path.glob("*/hearth/python/hearth"))
    shipped = sorted(p.name for p in package.iterdir())
    source = sorted(p for p in os.listdir(os.path.join(PYROOT, "hearth"))
                    if p.endswith(".py") or p == "py.typed")
    assert shipped == source and "py.typed" in shipped


def test_sigterm_with_a_request_held_answers_it_before_exit(broker, client, tmp_path):
    # The last reply leaves before the process goes, though the library's
    # one context is never terminated while the worker runs (_context.py).
    module = tmp_path / "held.py"
    module.write_text("import threading, hearth\n"
                      "release = threading.Event()\n"
                      "@hearth.expert('held')\n"
                      "def held(doc):\n"
                      "    release.wait(float(doc['hold']))\n"
                      "    return {'done': doc['i']}\n")
    worker = serve(broker.endpoint, str(module), cwd="/")
    try:
        wait_workers(client, "held", 1)
        future = client.submit("held", {"i": 7, "hold": 0.5})
        hearthtest.wait_until(lambda: client.services("held")[0]["in_flight"] == 1,
                              what="request held by the worker")
        worker.signal(signal.SIGTERM)
        assert future.result(timeout=15) == {"done": 7}       # not 502: drained
        assert worker.wait(15) == 0, worker.output()
    finally:
        worker.kill()
