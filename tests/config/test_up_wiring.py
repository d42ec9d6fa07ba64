"""The wiring around `hearth up`:

- a service's `schema` and `example` in mesh.yml reach the broker's service
  descriptor (hearth up -> hearth-worker or `python3 -m hearth serve`
  --input-schema/--output-schema/--example -> READY descriptor ->
  `hearth services --json`);
- an installation (`cmake --install` into a temporary prefix) runs the
  default mesh from its own files: the example scripts and the Python
  package under PREFIX/share/hearth, the programs in PREFIX/bin.

Everything is polled with deadlines; processes are stopped by PID."""

import json
import os
import re
import subprocess

import pytest

from hearthtest import HearthUp, children_of, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

INPUT_SCHEMA = ('{"type": "object", "required": ["text"], '
                '"properties": {"text": {"type": "string"}}}')
OUTPUT_SCHEMA = '{"type": "object", "required": ["opinions"]}'
EXAMPLE = '{"text": "a good warm day"}'
MESH_ONLY_EXAMPLE = '{"text": "only in mesh.yml"}'


def yaml_quoted(text):
    """A YAML double-quoted scalar (JSON strings are valid YAML ones)."""
    return json.dumps(text)


# ------------------------------------------------------- schema / example

@pytest.mark.skipif(not os.environ.get("HEARTH_WORKER_BIN"), reason="hearth-worker not built")
def test_hearth_worker_lists_the_descriptor_options():
    done = subprocess.run([os.environ["HEARTH_WORKER_BIN"], "--help"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0
    for option in ("--input-schema TEXT", "--output-schema TEXT", "--example TEXT"):
        assert option in done.stdout, done.stdout


@pytest.mark.skipif(not os.environ.get("HEARTH_WORKER_BIN"), reason="hearth-worker not built")
def test_up_publishes_schema_and_example(tmp_path, ups):
    script = tmp_path / "echo_expert.py"
    script.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    doc = json.loads(line)\n"
        "    doc.setdefault('opinions', {})['echo'] = True\n"
        "    print(json.dumps(doc), flush=True)\n")
    (tmp_path / "pyecho.py").write_text(
        "def echo(doc):\n"
        "    doc.setdefault('opinions', {})['pyecho'] = True\n"
        "    return doc\n")
    mesh = tmp_path / "mesh.yml"
    mesh.write_text("""
broker:
  bind: [tcp://127.0.0.1:*]
  grace_ms: 300
services:
  echo:
    command: [/usr/bin/python3, echo_expert.py]
    version: "1.2"
    schema:
      input: %s
      output: %s
    example: %s
  plain:
    command: [/usr/bin/python3, echo_expert.py]
  pyecho:
    module: pyecho:echo
    schema:
      input: %s
    example: %s
  sentiment:
    worker: [hearth-expert-sentiment]
    example: %s
""" % (yaml_quoted(INPUT_SCHEMA), yaml_quoted(OUTPUT_SCHEMA), yaml_quoted(EXAMPLE),
       yaml_quoted(INPUT_SCHEMA), yaml_quoted(EXAMPLE), yaml_quoted(MESH_ONLY_EXAMPLE)))
    env = dict(os.environ)
    up = HearthUp(["-c", str(mesh)], env=env)
    ups.append(up)
    up.wait_ready(timeout=90.0)

    done = run_cli(up.endpoint, "services", "--json")
    assert done.returncode == 0, done.stderr
    services = {s["name"]: s for s in json.loads(done.stdout)}
    descriptor = services["echo"]["descriptor"]
    assert descriptor["input_schema"] == INPUT_SCHEMA
    assert descriptor["output_schema"] == OUTPUT_SCHEMA
    assert descriptor["example"] == EXAMPLE
    assert descriptor["version"] == "1.2"
    # The published example is a request the service accepts.
    done = run_cli(up.endpoint, "call", "echo", descriptor["example"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["opinions"] == {"echo": True}

    # A module service: through `python3 -m hearth serve --input-schema ...`.
    py = services["pyecho"]["descriptor"]
    assert py["input_schema"] == INPUT_SCHEMA and py["example"] == EXAMPLE, py
    assert "output_schema" not in py, py
    done = run_cli(up.endpoint, "call", "pyecho", py["example"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["opinions"] == {"pyecho": True}

    # Without the keys nothing is published (not empty strings).
    plain = services["plain"]["descriptor"]
    assert not {"input_schema", "output_schema", "example"} & set(plain), plain

    # A worker program publishes its own descriptor: the key is not passed
    # on, and `hearth up` says so instead of dropping it silently.
    assert services["sentiment"]["descriptor"].get("example") != MESH_ONLY_EXAMPLE
    assert re.search(r"service 'sentiment': schema and example are not published for "
                     r"worker services", up.proc.output()), up.proc.output()
    assert "service 'pyecho': schema" not in up.proc.output()
    up.stop_cleanly()


# ----------------------------------------------------------- installation

def installed_prefix(tmp_path):
    """Installs this build tree into a fresh prefix; returns the prefix."""
    build = os.environ.get("HEARTH_BUILD_DIR")
    cmake = os.environ.get("CMAKE_COMMAND", "cmake")
    if not build:
        pytest.skip("HEARTH_BUILD_DIR is not set: run through ctest")
    prefix = os.path.realpath(str(tmp_path / "prefix"))
    done = subprocess.run([cmake, "--install", build, "--prefix", prefix],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return prefix


def installed_env():
    """Our environment without anything that points into the build or
    source tree, so the installation must find its own files."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HEARTH_BROKER_BIN", "HEARTH_WORKER_BIN", "HEARTH_EXAMPLES_DIR",
                        "HEARTH_PYTHONPATH", "PYTHONPATH", "HEARTH_BROKER")}
    return env


def python_parts_present():
    """The Python-library service of the default mesh needs both."""
    return (os.path.isfile(os.path.join(SOURCE, "workers", "examples", "py_expert.py"))
            and os.path.isfile(os.path.join(SOURCE, "client", "python", "hearth",
                                            "__init__.py")))


def test_install_runs_the_default_mesh(tmp_path, ups):
    prefix = installed_prefix(tmp_path)
    data = os.path.join(prefix, "share", "hearth")
    for program in ("hearth", "hearth-broker", "hearth-worker", "hearth-expert-sentiment"):
        path = os.path.join(prefix, "bin", program)
        assert os.access(path, os.X_OK), path
    for script in ("wordcount.py", "slowstart.py"):
        assert os.path.isfile(os.path.join(data, "examples", script)), script
    with_python = python_parts_present()
    if with_python:
        assert os.path.isfile(os.path.join(data, "examples", "py_expert.py"))
        assert os.path.isfile(os.path.join(data, "python", "hearth", "__init__.py"))
        assert os.path.isfile(os.path.join(data, "python", "hearth", "__main__.py"))
    assert not any("__pycache__" in d for d, _, _ in os.walk(data))

    cli = os.path.join(prefix, "bin", "hearth")
    env = installed_env()
    # --check names the directories the installed copy runs from.
    done = subprocess.run([cli, "up", "--check"], capture_output=True, text=True,
                          timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    assert "  examples: %s\n" % os.path.join(data, "examples") in done.stdout, done.stdout
    if with_python:
        assert "  python package: %s\n" % os.path.join(data, "python") in done.stdout, \
            done.stdout

    # Start it on a free port and call the default pipeline.
    up = HearthUp(["--bind", "tcp://127.0.0.1:*"], cli=cli, env=env)
    ups.append(up)
    up.wait_ready(timeout=120.0)
    out = up.proc.output()
    assert "default mesh: examples in %s" % os.path.join(data, "examples") in out, out
    for name in ("sentiment", "wordcount", "slowstart"):
        assert re.search(r"^%s\s+(\d+)/\1\s" % name, out, re.M), out
    # The programs are the installed ones: in the process table, every
    # hearth program `hearth up` started is under PREFIX/bin.
    for pid in children_of(up.proc.pid):
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            continue
        if os.path.basename(exe).startswith("hearth"):
            assert exe.startswith(os.path.join(prefix, "bin") + "/"), exe
    if with_python:
        assert "leaving out" not in out, out
        assert re.search(r"^keywords\s+1/1\s", out, re.M), out
        done = subprocess.run([cli, "-b", up.endpoint, "call", "opinions",
                               '{"text": "a good warm day"}'],
                              capture_output=True, text=True, timeout=30, env=env)
        assert done.returncode == 0, done.stderr
        opinions = json.loads(done.stdout)["opinions"]
        assert set(opinions) == {"wordcount", "sentiment", "keywords"}, opinions
    else:
        assert "leaving out keywords" in out, out
    done = subprocess.run([cli, "-b", up.endpoint, "call", "slowstart",
                           '{"text": "one two three"}'],
                          capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    assert "slowstart" in json.loads(done.stdout)["opinions"]
    up.stop_cleanly()
