"""End to end: routes and pipelines (PROTOCOL.md section 11) through real
sentiment experts registered under different names, called with the real CLI.
Each expert adds its opinion under opinions.<its service>, so a route's
result shows which stages ran."""

import json

import pytest

DOC = json.dumps({"text": "what a lovely, wonderful day", "id": 3})


@pytest.fixture
def experts(stack):
    stack.start_broker("--pipeline", "review=alpha,[beta,gamma]")
    for name in ("alpha", "beta", "gamma"):
        stack.track_expert(name)
    return stack


def opinions(out):
    assert out.returncode == 0, out
    doc = json.loads(out.stdout)
    assert doc["id"] == 3 and doc["text"].startswith("what a lovely")
    return doc["opinions"]


def test_sequential_route(experts):
    """11: "each stage's reply body becomes the next stage's request body"."""
    ops = opinions(experts.cli("call", "alpha,beta", DOC))
    assert set(ops) == {"alpha", "beta"}
    assert ops["alpha"]["label"] == ops["beta"]["label"] == "positive"


def test_parallel_group_merged(experts):
    """11: "A parallel group's services all get the same document at once.
    ... they are deep-merged"."""
    ops = opinions(experts.cli("call", "[beta,gamma]", DOC))
    assert set(ops) == {"beta", "gamma"}


def test_named_pipeline_with_trace(experts):
    """11: a pipeline given as --pipeline NAME=ROUTE; "The final REPLY carries
    ... metadata trace: an array with one map per stage call"."""
    out = experts.cli("call", "--meta", "review", DOC)
    assert set(opinions(out)) == {"alpha", "beta", "gamma"}
    meta = None
    for line in out.stderr.splitlines():
        try:
            meta = json.loads(line)
            break
        except ValueError:
            continue
    assert meta is not None, out.stderr
    trace = meta["trace"]
    assert sorted((t["stage"], t["service"]) for t in trace) == [(0, "alpha"), (1, "beta"), (1, "gamma")]
    assert all(t["status"] == 200 for t in trace)
    assert meta["service"] == "review"


def test_stage_error_and_unknown_stage(experts):
    """11: "A non-200 answer at stage k ends the request at once with that
    status, error = stage k (SERVICE): ..."; "one naming a service the broker
    does not know gets 404 at once, with error naming the stage"."""
    out = experts.cli("call", "alpha,beta", "not json at all")
    assert out.returncode == 8, out
    assert "stage 0" in out.stderr and "alpha" in out.stderr, out.stderr
    out = experts.cli("call", "alpha,nosuch", DOC)
    assert out.returncode == 5, out
    assert "nosuch" in out.stderr, out.stderr
    out = experts.cli("call", "alpha,[beta", DOC)
    assert out.returncode == 8, out
