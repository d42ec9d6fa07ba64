"""expect_exit - runs a program and checks how it ended: the exact exit
code and a text its stderr (with --stdout: its stdout) must contain.

    expect_exit.py [--stdout] CODE TEXT -- PROGRAM [ARG...]

ctest's WILL_FAIL passes on any non-zero exit (a crash included) and
PASS_REGULAR_EXPRESSION ignores the exit code, so neither can say "exit 2
with this message". Exits 0 if both hold, 1 (saying why) if not.
"""
import subprocess
import sys

TIMEOUT_S = 20          # a refusal is immediate; this only bounds a hang


def main(argv):
    stream = "stderr"
    if argv[1:2] == ["--stdout"]:
        stream = "stdout"
        argv = argv[:1] + argv[2:]
    if len(argv) < 5 or argv[3] != "--":
        sys.stderr.write(__doc__)
        return 1
    code, text, command = int(argv[1]), argv[2], argv[4:]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"FAIL: {command} still running after {TIMEOUT_S} s")
        return 1
    output = getattr(done, stream).decode("utf-8", "replace")
    ok = True
    if done.returncode != code:
        print(f"FAIL: exit {done.returncode}, expected {code}")
        ok = False
    if text not in output:
        print(f"FAIL: {stream} does not contain {text!r}")
        ok = False
    if not ok:
        print(f"command: {command}\n{stream}:\n{output}")
        return 1
    print(f"ok: exit {code}, {stream} has {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
