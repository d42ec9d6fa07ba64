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
"""

from .client import Client, Reply, route_expression
from .errors import (BadRequest, BrokerUnreachable, HearthError, NoSuchService,
                     Rejected, Timeout, Unavailable, WorkerError, WorkerLost)
from .worker import (Worker, expert, experts, run_experts, serve_workers,
                     worker_for)

__version__ = "0.1.0"

__all__ = [
    "Client", "Reply", "route_expression",
    "HearthError", "BadRequest", "NoSuchService", "WorkerError", "WorkerLost",
    "Unavailable", "Timeout", "BrokerUnreachable", "Rejected",
    "Worker", "expert", "experts", "run_experts", "serve_workers", "worker_for",
    "__version__",
]
