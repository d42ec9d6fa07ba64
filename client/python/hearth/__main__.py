"""python3 -m hearth serve MODULE[:FUNCTION] [-s SERVICE] [-b ENDPOINT]
       [-n CONCURRENCY] [--credit N] [--version-string V] [--description TEXT]
       [--idempotent] [--input-schema TEXT] [--output-schema TEXT] [--example TEXT] [-v]

Imports MODULE (from the current directory or PYTHONPATH; a path ending in
.py is loaded from that file) and serves FUNCTION (dict -> dict) as SERVICE.
Without FUNCTION, every @expert of the module is served. Stops cleanly on
SIGINT/SIGTERM (exit 0); exit 2 on usage or import errors, 1 when the broker
refuses the registration.
"""

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from types import ModuleType
from typing import Callable, List, Optional, Sequence

from . import __version__
from .errors import HearthError
from .worker import experts, serve_workers, worker_for

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m hearth",
                                     description="Hearth Python library tools.")
    parser.add_argument("-V", "--version", action="version", version="hearth " + __version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Python function as a Hearth service")
    serve.add_argument("target", metavar="MODULE[:FUNCTION]")
    serve.add_argument("-s", "--service", help="service name (default: the @expert name)")
    serve.add_argument("-b", "--broker", help="broker endpoint (default $HEARTH_BROKER, "
                       "else tcp://127.0.0.1:5555)")
    serve.add_argument("-n", "--concurrency", type=int, help="handler threads (default 1)")
    serve.add_argument("--credit", type=int, help="requests held at once (default concurrency)")
    serve.add_argument("--version-string", dest="version", help="version told to the broker")
    serve.add_argument("--description", help="one line for humans")
    serve.add_argument("--input-schema", metavar="TEXT",
                       help="JSON Schema of the request document, published in the descriptor")
    serve.add_argument("--output-schema", metavar="TEXT",
                       help="JSON Schema of the reply document, published in the descriptor")
    serve.add_argument("--example", metavar="TEXT",
                       help="an example request body, published in the descriptor")
    serve.add_argument("--idempotent", action="store_true", default=None,
                       help="the broker may resend a request once if the worker dies")
    serve.add_argument("-v", "--verbose", action="store_true", help="log debug lines")
    return parser


def _import(name: str) -> ModuleType:
    """The module named name, or loaded from the file name if it ends in .py."""
    if name.endswith(".py"):
        path = os.path.abspath(name)
        spec = importlib.util.spec_from_file_location(
            os.path.splitext(os.path.basename(path))[0], path)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load %s" % path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


def _functions(target: str) -> List[Callable[..., object]]:
    """The functions to serve for MODULE[:FUNCTION]."""
    module_name, _, function_name = target.rpartition(":") if ":" in target else (target, "", "")
    module = _import(module_name)
    if function_name:
        function = getattr(module, function_name, None)
        if not callable(function):
            raise ImportError("%s has no function %s" % (module_name, function_name))
        return [function]
    found = [f for f in experts() if getattr(f, "__module__", None) == module.__name__]
    if not found:
        raise ImportError("%s defines no @expert function" % module_name)
    return found


def _serve(args: argparse.Namespace) -> int:
    try:
        functions = _functions(args.target)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's
        print("hearth serve: cannot import %s: %s: %s" % (args.target, type(exc).__name__, exc),
              file=sys.stderr)
        return EXIT_USAGE
    overrides = dict(service=args.service, concurrency=args.concurrency, credit=args.credit,
                     version=args.version, description=args.description,
                     idempotent=args.idempotent, input_schema=args.input_schema,
                     output_schema=args.output_schema, example=args.example)
    if len(functions) > 1 and args.service:
        print("hearth serve: -s needs MODULE:FUNCTION (the module has %d experts)"
              % len(functions), file=sys.stderr)
        return EXIT_USAGE
    try:
        workers = [worker_for(f, args.broker, **overrides) for f in functions]
    except ValueError as exc:
        print("hearth serve: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        serve_workers(workers)
    except HearthError as exc:
        print("hearth serve: %s" % exc, file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s hearth-py %(levelname)s %(message)s",
                        stream=sys.stderr)
    if args.command == "serve":
        return _serve(args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
