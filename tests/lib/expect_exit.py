"""expect_exit - runs a program and checks how it refused: exact exit code
and a text its stderr must contain.

    expect_exit.py CODE TEXT -- PROGRAM [ARG...]

ctest's WILL_FAIL passes on any non-zero exit (a crash included) and
PASS_REGULAR_EXPRESSION ignores the exit code, so neither can say "exit 2
with this message". Exits 0 if both hold, 1 (saying why) if not.
"""
import subprocess
import sys

TIMEOUT_S = 20          # a refusal is immediate; this only bounds a hang


def main(argv):
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
    stderr = done.stderr.decode("utf-8", "replace")
    ok = True
    if done.returncode != code:
        print(f"FAIL: exit {done.returncode}, expected {code}")
        ok = False
    if text not in stderr:
        print(f"FAIL: stderr does not contain {text!r}")
        ok = False
    if not ok:
        print(f"command: {command}\nstderr:\n{stderr}")
        return 1
    print(f"ok: exit {code}, stderr has {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
