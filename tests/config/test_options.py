"""hearth-broker's and hearth-worker's options come from their settings tables
(common/hearth_broker_settings.c, workers/host/hw_options.c): each mesh.yml key
is an option of the same name with '_' -> '-', the options' older names
(--heartbeat, --default-deadline, --linger, --grace; hearth-worker's --timeout,
--start-timeout) still work, and a bad value is refused with exit 2 and one
line naming the option as typed, its range and the text."""

import os
import re
import subprocess

import pytest

from hearthtest import P, Mesh, Process, binary, start_broker, unpack, wait_until

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def broker_keys():
    """The keys schemas/CONFIG.md 3.2 lists, but bind (a list, not a setting)."""
    with open(os.path.join(SOURCE, "schemas", "CONFIG.md"), encoding="utf-8") as f:
        section = f.read().split("### 3.2 `broker`", 1)[1].split("\n#", 1)[0]
    keys = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert "heartbeat_ms" in keys, section
    return [k for k in keys if k != "bind"]


def registered(*options):
    """The settings a native worker is told in REGISTERED by a broker started
    with options; the broker must then stop cleanly."""
    broker = start_broker("--grace-ms", "300", *options)
    mesh = Mesh(broker.endpoint)
    try:
        status, settings = mesh.native_worker().ready("svc", {})
        assert status == P.HEARTH_STATUS_OK
        return settings
    finally:
        mesh.close()
        rc = broker.stop(timeout=15)
        assert rc == 0, broker.output()


@pytest.mark.parametrize("heartbeat", ["--heartbeat-ms", "--heartbeat"])
def test_broker_settings_under_the_keys_names_and_the_old_ones(heartbeat):
    settings = registered(heartbeat, "700", "--liveness", "4", "--max-message", "123456")
    assert settings["heartbeat_ms"] == 700
    assert settings["liveness"] == 4
    assert settings["max_message"] == 123456


def test_broker_help_names_every_key_as_an_option():
    done = subprocess.run([binary("HEARTH_BROKER_BIN"), "--help"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0
    for key in broker_keys():
        assert "--" + key.replace("_", "-") + " " in done.stdout, (key, done.stdout)
    for old in ("--heartbeat)", "--default-deadline)", "--linger)", "--grace)"):
        assert "also " + old in done.stdout, (old, done.stdout)


@pytest.mark.parametrize("args, message", [
    (["--heartbeat", "5"],
     "--heartbeat needs a whole number from 10 to 3600000, not '5'"),
    (["--heartbeat-ms", "soon"],
     "--heartbeat-ms needs a whole number from 10 to 3600000, not 'soon'"),
    (["--grace-ms", "-1"], "--grace-ms needs a whole number from 0 to 3600000, not '-1'"),
    (["--max-message", "99999999999999999999"],
     "--max-message needs a whole number from 1024 to 1073741824, "
     "not '99999999999999999999'"),
    (["--max-message", "2048", "--max-pending-bytes", "1024"],
     "max_pending_bytes must be at least max_message"),
])
def test_broker_refuses_a_bad_value(args, message):
    # Refused before binding, so no broker ever listens on the default port.
    done = subprocess.run([binary("HEARTH_BROKER_BIN")] + args, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2, done
    assert done.stderr.splitlines()[0] == "hearth-broker: " + message, done.stderr


@pytest.mark.skipif(not os.environ.get("HEARTH_WORKER_BIN"), reason="hearth-worker not built")
@pytest.mark.parametrize("args, message", [
    (["-n", "0"], "-n needs a whole number from 1 to 1024, not '0'"),
    (["--processes", "x"], "--processes needs a whole number from 1 to 1024, not 'x'"),
    (["--timeout", "abc"], "--timeout needs a whole number from 1 to 1073741823, not 'abc'"),
    (["--start-timeout-ms", "0"],
     "--start-timeout-ms needs a whole number from 1 to 1073741823, not '0'"),
    (["--framing", "xml"], "--framing is line or length, not 'xml'"),
])
def test_worker_refuses_a_bad_value(args, message):
    done = subprocess.run([os.environ["HEARTH_WORKER_BIN"], "-s", "x"] + args + ["--", "true"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done
    assert done.stderr.splitlines()[0] == "hearth-worker: " + message, done.stderr


@pytest.mark.skipif(not os.environ.get("HEARTH_WORKER_BIN"), reason="hearth-worker not built")
@pytest.mark.parametrize("names", [("--timeout-ms", "--start-timeout-ms"),
                                   ("--timeout", "--start-timeout")])
def test_worker_takes_the_keys_names_and_the_old_ones(names):
    broker = start_broker("--grace-ms", "300")
    mesh = Mesh(broker.endpoint)
    worker = Process([os.environ["HEARTH_WORKER_BIN"], "-s", "echo", "-b", broker.endpoint,
                      "--processes", "1", names[0], "5000", names[1], "5000", "--", "cat"],
                     name="hearth-worker")
    try:
        client = mesh.native_client()

        def registered_workers():
            assert worker.alive(), worker.output()
            reply = client.call(P.HEARTH_SVC_SERVICES, b"echo", timeout=5)
            assert reply is not None, "broker did not answer hearth.services"
            if reply.status != P.HEARTH_STATUS_OK:
                return 0
            entries = unpack(reply.body)
            return entries[0]["workers"] if entries else 0

        wait_until(lambda: registered_workers() == 1, timeout=30, what="hearth-worker to register")
        reply = client.call("echo", b'{"a": 1}', timeout=10)
        assert reply is not None and reply.status == P.HEARTH_STATUS_OK, reply
        assert reply.body == b'{"a": 1}'
    finally:
        worker.stop()
        mesh.close()
        assert broker.stop(timeout=15) == 0, broker.output()
