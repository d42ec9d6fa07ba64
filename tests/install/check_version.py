"""check_version.py VERSION SOURCE_DIR PROGRAM... - one version everywhere.

VERSION is project (VERSION) from the top CMakeLists.txt, the one place C
takes it from (hearth/hearth_version.h is generated). The Python package
cannot include a generated file when it runs from the source tree, so it
writes the version twice (client/python/pyproject.toml and
hearth/__init__.py); this test fails when either disagrees with CMake, and
when a PROGRAM's --version output does not name VERSION.
"""

import ast
import os
import re
import subprocess
import sys


def pyproject_version(path):
    text = open(path, encoding="utf-8").read()
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if not project:
        return None
    block = project.group(1)
    static = re.search(r'^version\s*=\s*"([^"]*)"', block, re.M)
    return static.group(1) if static else None


def package_version(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__version__" for t in targets):
            if isinstance(node.value, ast.Constant):
                return node.value.value
    return None


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: check_version.py VERSION SOURCE_DIR PROGRAM...")
    version, source = argv[1], argv[2]
    python = os.path.join(source, "client", "python")
    failures = []
    found = {
        "client/python/pyproject.toml": pyproject_version(
            os.path.join(python, "pyproject.toml")),
        "client/python/hearth/__init__.py": package_version(
            os.path.join(python, "hearth", "__init__.py")),
    }
    for where, value in found.items():
        if value != version:
            failures.append("%s says %r, CMakeLists.txt says %r" % (where, value, version))
    for program in argv[3:]:
        out = subprocess.run([program, "--version"], capture_output=True, text=True,
                             timeout=30)
        words = out.stdout.split()
        if out.returncode != 0 or version not in words:
            failures.append("%s --version printed %r (exit %d), not %s"
                            % (os.path.basename(program), out.stdout.strip(),
                               out.returncode, version))
    for failure in failures:
        print(failure)
    print("version %s: %d place(s) checked, %d disagree"
          % (version, len(found) + len(argv) - 3, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
