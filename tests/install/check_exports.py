"""check_exports.py NM CC LIBRARY INCLUDE_DIR... - libhearth exports its API.

Passes when the dynamic symbol table of LIBRARY (nm -D --defined-only) and the
functions declared by the public headers (include/hearth/hearth.h and
hearth_proto.h) are the same set: every exported symbol is declared there,
and every declared function is exported, so a declaration that lacks
HEARTH_EXPORT fails as surely as an internal function that leaks.
"""

import re
import subprocess
import sys

HEADERS = ("hearth.h", "hearth_proto.h")
#   Symbols the linker itself may define in any shared object.
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def exported(nm, library):
    out = subprocess.run([nm, "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return names - LINKER_SYMBOLS


def header_text(cc, include_dirs):
    """The public headers preprocessed as a program sees them (comments and
    macros gone), keeping only the lines that come from the headers
    themselves, not from <stdint.h> and the like."""
    source = "".join("#include <hearth/%s>\n" % h for h in HEADERS)
    args = [cc, "-E", "-x", "c", "-"] + ["-I" + d for d in include_dirs]
    out = subprocess.run(args, input=source, check=True, capture_output=True,
                         text=True).stdout
    kept, keep = [], False
    for line in out.splitlines():
        marker = re.match(r'#\s*\d+\s+"([^"]*)"', line)
        if marker:
            keep = marker.group(1).endswith(tuple("/hearth/" + h for h in HEADERS))
        elif keep and not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept)


def declared(text):
    """Names of the functions declared at file scope: what is left of each
    statement once brace blocks (enums, structs) are gone, if it is not a
    typedef and has a parameter list, is named by the identifier before it."""
    while True:
        flat = re.sub(r"\{[^{}]*\}", " ", text)
        if flat == text:
            break
        text = flat
    names = set()
    for statement in text.split(";"):
        statement = " ".join(statement.split())
        if "(" not in statement or re.match(r"typedef\b", statement):
            continue
        name = re.search(r"([A-Za-z_]\w*)\s*\($", statement.split("(")[0] + "(")
        if name:
            names.add(name.group(1))
    return names


def main(argv):
    if len(argv) < 5:
        sys.exit("usage: check_exports.py NM CC LIBRARY INCLUDE_DIR...")
    nm, cc, library, include_dirs = argv[1], argv[2], argv[3], argv[4:]
    have = exported(nm, library)
    want = declared(header_text(cc, include_dirs))
    if not want:
        sys.exit("check_exports: found no declarations in the headers (parser broken?)")
    leaked = sorted(have - want)
    missing = sorted(want - have)
    for name in leaked:
        print("exported but not declared in the public headers: %s" % name)
    for name in missing:
        print("declared in the public headers but not exported: %s" % name)
    print("%d exported, %d declared" % (len(have), len(want)))
    return 1 if leaked or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
