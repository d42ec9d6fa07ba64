"""hearth - Python client and worker library for the Hearth service mesh.

    from hearth import Client
    with Client("tcp://127.0.0.1:5555") as client:
        doc = client.call("sentiment", {"text": "what a lovely day"})

    from hearth import expert, run_experts
    @expert("keywords", version="1.0")
    def keywords(doc):
        doc.setdefault("opinions", {})["keywords"] = doc["text"].split()[:5]
        return doc
    run_experts()          # or: python3 -m hearth serve mymodule:keywords

Pure Python over pyzmq and msgpack. Protocol: schemas/PROTOCOL.md (HMP/1).
Typed (PEP 561): the package ships py.typed.
"""

from .client import Client, Reply, route_expression
from .errors import (BadReply, BadRequest, BrokerLost, BrokerUnreachable, Forbidden,
                     HearthError, NoSuchService, ProtocolError, Rejected, Timeout,
                     TooLarge, Unavailable, Unimplemented, UnknownStatus, WorkerError,
                     WorkerLost)
from .worker import (Worker, expert, experts, run_experts, serve_workers,
                     worker_for)

__version__ = "0.1.0"

__all__ = [
    "Client", "Reply", "route_expression",
    "HearthError", "BadRequest", "Forbidden", "TooLarge", "Unimplemented",
    "NoSuchService", "WorkerError", "WorkerLost", "Unavailable", "Timeout",
    "UnknownStatus", "BrokerUnreachable", "BrokerLost", "ProtocolError", "Rejected",
    "BadReply",
    "Worker", "expert", "experts", "run_experts", "serve_workers", "worker_for",
    "__version__",
]
