#!/usr/bin/python3
"""bench_experts - issue 3's benchmarks, each figure next to its baseline,
all measured in one run against the real binaries (bench/README.md).

  1. the slow-start expert (0.5 s to load) served warm by hearth-worker,
     against hearth-worker --per-request (one process per document);
  2. the Python client (package hearth) calling a trivial expert in the
     users' style (wordcount.py) under hearth-worker -n 4, one caller and 8
     callers, against the same script driven directly over its pipes;
  3. `hearth run` through a 3-stage route of such experts, against the
     Python client calling the three stages one after another.

Every process is started here on tcp://127.0.0.1:* and stopped by PID;
every phase is bounded in count and in time (PHASE_LIMIT). Exit 0 only if
every phase finished and every reply was checked correct; the aims are
reported, not enforced (a shared machine makes them noise).

    /usr/bin/python3 bench/bench_experts.py [--quick] [--json]

Binaries: $HEARTH_BROKER_BIN, $HEARTH_CLI_BIN, $HEARTH_WORKER_BIN (as ctest
passes them), else --build-dir/{broker/hearth-broker,client/cli/hearth,
workers/host/hearth-worker}.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, ".."))
sys.path[:0] = [os.path.join(REPO, "client", "python"),
                os.path.join(REPO, "tests", "lib")]

import zmq  # noqa: E402

import hearth  # noqa: E402
import msgpack  # noqa: E402
from hearth import protocol as HP  # noqa: E402
from hearthtest import Broker, Process, wait_until  # noqa: E402

PYTHON = "/usr/bin/python3"
EXAMPLES = os.path.join(REPO, "workers", "examples")
SLOWSTART = [PYTHON, os.path.join(EXAMPLES, "slowstart.py")]
WORDCOUNT = [PYTHON, os.path.join(EXAMPLES, "wordcount.py")]
STAGE_EXPERT = [PYTHON, os.path.join(HERE, "bench_expert.py")]
ZMQ_ECHO = [PYTHON, os.path.join(HERE, "bench_zmq_echo.py")]
STAGES = ("stage_a", "stage_b", "stage_c")
PHASE_LIMIT = 120.0         # seconds: a phase past this is aborted, reported
READY_LIMIT = 60.0          # seconds for a service's workers to register
CALL_TIMEOUT = 30.0         # seconds, each request's deadline
TICK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A phase failed (wrong reply, error, abort): the run exits 1."""


# ---------------------------------------------------------------- documents

def make_doc(i):
    """Document i: small, like a user's, and checkable by its id."""
    return {"id": i, "text": "the quick brown fox jumps over lazy dog number %d" % i,
            "tags": ["bench", "doc%d" % (i % 97)]}


def reply_doc(result):
    """The JSON document in a reply. --per-request replies carry all of the
    child's stdout: slowstart's READY line, then the document."""
    if isinstance(result, (bytes, bytearray)):
        lines = [line for line in bytes(result).splitlines() if line.strip()]
        result = json.loads(lines[-1]) if lines else None
    return result


def expected_words(i):
    """wordcount's `words` for document i: the text and the two tags."""
    return len(make_doc(i)["text"].split()) + 2


def as_checked(i):
    """Document i as if wordcount had answered it: what the transport-only
    diagnostics (echo, ping) hand to check(), which then tests only that
    the right document came back."""
    return dict(make_doc(i), opinions={"wordcount": {"words": expected_words(i)}})


def check(result, i, names):
    """Raises BenchError unless result is document i with every opinion in
    names (and the right word count, so a wrong document cannot pass)."""
    if isinstance(result, Exception):
        raise BenchError("document %d failed: %s" % (i, result))
    doc = reply_doc(result)
    if not isinstance(doc, dict) or doc.get("id") != i:
        raise BenchError("document %d: wrong reply %r" % (i, str(result)[:200]))
    for name in names:
        opinion = doc.get("opinions", {}).get(name)
        if not isinstance(opinion, dict) or opinion.get("words") != expected_words(i):
            raise BenchError("document %d: opinion %s is %r" % (i, name, opinion))


# ---------------------------------------------------------------- CPU use

def _proc_table():
    """{pid: (ppid, own CPU ticks, ticks of its reaped children)}."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        #   fields[0] is stat field 3 (state): utime, stime, cutime, cstime
        #   are fields 14-17, so indexes 11-14.
        own = int(fields[11]) + int(fields[12])
        reaped = int(fields[13]) + int(fields[14])
        table[int(entry)] = (int(fields[1]), own, reaped)
    return table


_MACHINE = "(machine)"


def _machine_busy():
    """Busy CPU ticks of the whole machine, all cores (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    #   user nice system idle iowait irq softirq: steal (the hypervisor's)
    #   is not load on this machine.
    return sum(fields[:7]) - fields[3] - fields[4]


class CpuMeter:
    """CPU seconds spent by each role during a phase: this process (the
    Python client), and every process started here with its descendants
    (so the experts under a hearth-worker count as that role's children).
    Processes that ended inside the phase count through their parent's
    cutime once reaped."""

    def __init__(self, roles):
        self.roles = roles          # {pid: label}, read at every snapshot

    def snapshot(self):
        table = _proc_table()
        me = os.getpid()
        labels = dict(self.roles)
        labels[me] = "python client (bench)"
        totals = {}

        def add(label, ticks):
            if ticks:
                totals[label] = totals.get(label, 0) + ticks
        for pid, (ppid, own, reaped) in table.items():
            label, node = labels.get(pid), pid
            for _ in range(8):              # nearest labelled ancestor
                if label is not None or node not in table:
                    break
                node = table[node][0]
                if node in labels and node != me:
                    label = labels[node] + " children"
            if label is None:
                continue
            add(label, own)
            #   What this process reaped: for us, the `hearth run` CLI; for
            #   hearth-worker, its --per-request children.
            add("reaped by bench (hearth run)" if pid == me else
                label if label.endswith(" children") else label + " children", reaped)
        totals[_MACHINE] = _machine_busy()
        return totals

    @staticmethod
    def diff(before, after):
        """CPU seconds by role between two snapshots, and "others": what
        the rest of the machine used meanwhile (the load we share with)."""
        spent = {k: (after.get(k, 0) - before.get(k, 0)) / TICK
                 for k in set(before) | set(after)
                 if k != _MACHINE and after.get(k, 0) - before.get(k, 0) > 0}
        others = (after[_MACHINE] - before[_MACHINE]) / TICK - sum(spent.values())
        if others > 0:
            spent["others"] = others
        return spent


# ---------------------------------------------------------------- the mesh

class Mesh:
    """One real broker for the whole run, hearth-worker services on it, and
    one Python client. Every process is stopped by PID in close()."""

    def __init__(self, bins):
        self.bins = bins
        self.procs = []
        self.roles = {}
        self.env = dict(os.environ, HEARTH_LOG=os.environ.get("HEARTH_LOG", "warn"))
        #   The broker must log at info: its `listening on` line is how we
        #   learn the port it picked.
        self.broker = Broker("--log-level", "info")
        self._track(self.broker, "broker")
        self.endpoint = self.broker.wait_line(Broker.LISTEN_RX, timeout=10).group(1)
        self.client = hearth.Client(self.endpoint, name="bench", timeout=CALL_TIMEOUT)
        wait_until(self._pings, timeout=10, what="the broker's hearth.ping")

    def _pings(self):
        try:
            self.client.ping(timeout=1)
            return True
        except hearth.HearthError:
            return False

    def _track(self, proc, label):
        self.procs.append(proc)
        self.roles[proc.pid] = label

    def workers(self, service):
        try:
            entries = self.client.services(service, timeout=5)
        except hearth.NoSuchService:
            return 0
        return entries[0]["workers"] if entries else 0

    def service(self, service, processes, command, *options):
        """Starts hearth-worker for service and waits until its `processes`
        workers are registered. Returns (process, seconds it took)."""
        argv = [self.bins["worker"], "-s", service, "-b", self.endpoint,
                "-n", str(processes)] + list(options) + ["--"] + command
        start = time.monotonic()
        proc = Process(argv, name="hearth-worker " + service, env=self.env)
        self._track(proc, "hearth-worker " + service)

        def ready():
            if not proc.alive():
                raise BenchError("hearth-worker %s exited:\n%s" % (service, proc.output()))
            return self.workers(service) == processes
        wait_until(ready, timeout=READY_LIMIT, interval=0.01,
                   what="%d worker(s) of %s" % (processes, service))
        return proc, time.monotonic() - start

    def stop(self, proc):
        proc.stop()
        self.roles.pop(proc.pid, None)

    def close(self):
        self.client.close()
        for proc in reversed(self.procs):
            proc.stop()


# ---------------------------------------------------------------- drivers

class Phase:
    """One timed measurement: count of documents, wall time, CPU by role."""

    def __init__(self, mesh, name):
        self.name = name
        self.meter = CpuMeter(mesh.roles)
        self.count = 0
        self.seconds = 0.0
        self.cpu = {}
        self._t0 = None             # set while the phase is being timed

    def __enter__(self):
        self._cpu0 = self.meter.snapshot()
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds += time.monotonic() - self._t0
        self._t0 = None
        for k, v in CpuMeter.diff(self._cpu0, self.meter.snapshot()).items():
            self.cpu[k] = self.cpu.get(k, 0.0) + v

    def remaining(self):
        """Seconds left of PHASE_LIMIT, counting only this phase's own timed
        time (its rounds alternate with other phases)."""
        running = time.monotonic() - self._t0 if self._t0 is not None else 0.0
        return PHASE_LIMIT - self.seconds - running

    def expired(self):
        return self.remaining() < 0

    def abort(self, done=None):
        raise BenchError("%s: aborted at its %g s bound%s" % (
            self.name, PHASE_LIMIT, "" if done is None else " (%d documents done)" % done))

    @property
    def rate(self):
        return self.count / self.seconds if self.seconds > 0 else 0.0


def submit_window(client, service, docs, window, phase, raw=None):
    """Sends docs through Client.submit with up to window in flight (what
    call_many does, but bounded by the phase's deadline). Returns the
    results in input order: documents (bytes with raw=True) or exceptions."""
    slots = threading.BoundedSemaphore(window)
    futures = []
    for doc in docs:
        while not slots.acquire(timeout=0.5):
            if phase.expired():
                phase.abort(len(futures))
        future = client.submit(service, doc, timeout=CALL_TIMEOUT, raw=raw)
        future.add_done_callback(lambda _f: slots.release())
        futures.append(future)
    results = []
    for future in futures:
        try:
            results.append(future.result(timeout=CALL_TIMEOUT + 5))
        except Exception as exc:  # noqa: BLE001 - checked by the caller
            results.append(exc)
    return results


class Pipe:
    """The baseline of item 2: one expert process driven directly over its
    stdin/stdout by the caller, no Hearth at all."""

    def __init__(self, command, roles):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, start_new_session=True)
        roles[self.proc.pid] = "direct-pipe experts"

    def call(self, doc):
        self.proc.stdin.write(json.dumps(doc, separators=(",", ":")).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError("direct pipe: expert closed its stdout")
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()     # EOF ends wordcount's loop
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()


class _Dealer:
    """A pyzmq DEALER of its own context, connected to endpoint: the bare
    socket of the two diagnostics below."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context()
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.dealer.linger = 0
        self.dealer.connect(endpoint)

    def recv(self, what):
        """The next message, or BenchError after CALL_TIMEOUT."""
        if not self.dealer.poll(CALL_TIMEOUT * 1000):
            raise BenchError("%s: no reply within %.0f s" % (what, CALL_TIMEOUT))
        return self.dealer.recv_multipart()

    def close(self):
        self.dealer.close()
        self.ctx.term()


class Echo(_Dealer):
    """Diagnostic floor of item 2: a raw pyzmq round trip (DEALER to the
    ROUTER echo of bench_zmq_echo.py), JSON encoded and decoded as the
    client does: 2 hops, no broker, no hearth-worker, no expert."""

    def __init__(self, mesh):
        self.server = Process(ZMQ_ECHO, name="zmq echo")
        mesh._track(self.server, "zmq echo")
        super().__init__(self.server.wait_line(r"listening on (\S+)", timeout=10).group(1))

    def call(self, doc):
        self.dealer.send(json.dumps(doc, separators=(",", ":")).encode())
        return json.loads(self.recv("zmq echo")[0])


class BareHmp(_Dealer):
    """Diagnostic of item 2: the same request as Client.call (HMP/1 frames,
    msgpack deadline, JSON both ways) from a bare pyzmq DEALER in the
    calling thread: the broker, hearth-worker and expert as in the hearth
    figure, but nothing of the Client's own machinery."""

    def __init__(self, endpoint):
        super().__init__(endpoint)
        self.meta = msgpack.packb({HP.HEARTH_META_DEADLINE: int(CALL_TIMEOUT * 1000)})
        self.seq = 0

    def call(self, service, doc):
        self.seq += 1
        rid = b"%d" % self.seq
        self.dealer.send_multipart([b"", HP.HEARTH_CLIENT_HEADER, HP.CLIENT_REQUEST_FRAME, rid,
                                    service, self.meta,
                                    json.dumps(doc, separators=(",", ":")).encode()])
        while True:                     # skips late replies of earlier calls
            frames = self.recv("bare HMP")
            if len(frames) == HP.HEARTH_CLIENT_REPLY_FRAMES and frames[3] == rid:
                if HP.parse_status(frames[4]) != HP.HEARTH_STATUS_OK:
                    raise BenchError("bare HMP: status %r" % frames[4])
                return json.loads(frames[6])


def run_callers(callers, count, first, call, phase):
    """count calls split over `callers` threads, each sequential (call(t, i)
    returns the reply of document i for thread t), timed from a common
    start. Adds to phase; raises BenchError on any failure or abort."""
    errors = []
    start = threading.Barrier(callers + 1)

    def loop(t):
        start.wait()
        for i in range(first + t, first + count, callers):
            if phase.expired() or errors:
                return
            try:
                check(call(t, i), i, ["wordcount"])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
    threads = [threading.Thread(target=loop, args=(t,), daemon=True) for t in range(callers)]
    for thread in threads:
        thread.start()
    with phase:
        start.wait()
        for thread in threads:
            thread.join(max(0.1, phase.remaining() + CALL_TIMEOUT))
    if errors:
        raise BenchError("%s: %s" % (phase.name, errors[0]))
    if any(thread.is_alive() for thread in threads) or phase.expired():
        phase.abort(phase.count)
    phase.count += count


# ---------------------------------------------------------------- benchmarks

def bench_slowstart(mesh, opts, results):
    """Item 1: warm against one process per document, same -n."""
    load = ["--load-seconds", str(opts.load_seconds)]
    n = opts.slow_processes

    proc, startup = mesh.service("slow_warm", n, SLOWSTART + load, "--ready-line", "READY")
    docs = [make_doc(i) for i in range(opts.warm_docs)]
    warm = Phase(mesh, "slow-start warm")
    with warm:
        replies = submit_window(mesh.client, "slow_warm", docs, n, warm)
    warm.count = len(docs)
    for i, reply in enumerate(replies):
        check(reply, i, ["slowstart"])
    mesh.stop(proc)

    proc, _ = mesh.service("slow_cold", n, SLOWSTART + load, "--per-request")
    docs = [make_doc(i) for i in range(opts.cold_docs)]
    cold = Phase(mesh, "slow-start per-request")
    with cold:
        #   Not JSON (the READY line comes first): bytes, for reply_doc.
        replies = submit_window(mesh.client, "slow_cold", docs, n, cold, raw=True)
    cold.count = len(docs)
    for i, reply in enumerate(replies):
        check(reply, i, ["slowstart"])
    mesh.stop(proc)

    results.append(row("slow-start expert (%.1f s load), -n %d, docs/s"
                       % (opts.load_seconds, n), cold, warm,
                       aim=50.0, aim_text="warm >= 50x per-request",
                       notes="warm %d docs, per-request %d docs; warm start-up %.2f s"
                       % (opts.warm_docs, opts.cold_docs, startup)))


def bench_client(mesh, opts, results):
    """Item 2: calls/s of the Python client to wordcount under
    hearth-worker -n 4, one caller and 8, against direct pipes."""
    proc, _ = mesh.service("wordcount", opts.wc_processes, WORDCOUNT)
    client = mesh.client
    pipes = [Pipe(WORDCOUNT, mesh.roles) for _ in range(opts.callers)]
    #   The 8 callers share the one Client (its I/O thread multiplexes
    #   them), or with --own-clients each has its own (and its I/O thread).
    callers = [hearth.Client(mesh.endpoint, name="bench%d" % t, timeout=CALL_TIMEOUT)
               if opts.own_clients else client for t in range(opts.callers)]
    echo = Echo(mesh)
    bare = BareHmp(mesh.endpoint)
    #   The echo returns what it is sent: send what check() expects.
    echo_doc = {i: as_checked(i) for i in range(max(opts.calls_one, opts.warmup))}
    try:
        for i in range(opts.warmup):            # untimed: caches, connections
            check(client.call("wordcount", make_doc(i)), i, ["wordcount"])
            check(echo.call(echo_doc[i]), i, ["wordcount"])
            check(bare.call(b"wordcount", make_doc(i)), i, ["wordcount"])
            client.ping()
            for pipe in pipes:
                check(pipe.call(make_doc(i)), i, ["wordcount"])
        phases = {key: Phase(mesh, key) for key in
                  ("echo", "ping", "bare", "pipe1", "hearth1", "pipe8", "hearth8")}
        one = opts.calls_one // opts.rounds
        many = opts.calls_many // opts.rounds
        for r in range(opts.rounds):            # turns, so load falls on both
            run_callers(1, one, r * one, lambda t, i: echo.call(echo_doc[i]), phases["echo"])
            run_callers(1, one, r * one, lambda t, i: s_ping(client, i), phases["ping"])
            run_callers(1, one, r * one, lambda t, i: bare.call(b"wordcount", make_doc(i)),
                        phases["bare"])
            run_callers(1, one, r * one, lambda t, i: pipes[0].call(make_doc(i)),
                        phases["pipe1"])
            run_callers(1, one, r * one, lambda t, i: client.call("wordcount", make_doc(i)),
                        phases["hearth1"])
            run_callers(opts.callers, many, r * many,
                        lambda t, i: pipes[t].call(make_doc(i)), phases["pipe8"])
            run_callers(opts.callers, many, r * many,
                        lambda t, i: callers[t].call("wordcount", make_doc(i)),
                        phases["hearth8"])
    finally:
        for own in set(callers) - {client}:
            own.close()
        for pipe in pipes:
            mesh.roles.pop(pipe.proc.pid, None)
            pipe.close()
        echo.close()
        bare.close()
    mesh.stop(echo.server)
    mesh.stop(proc)
    results.append(row("python client, 1 caller, calls/s", phases["pipe1"], phases["hearth1"],
                       target=4000, aim_text="hearth >= 4,000 calls/s",
                       notes="baseline: one wordcount.py driven directly over its pipes"))
    results.append(row("python client, %d callers, calls/s" % opts.callers,
                       phases["pipe8"], phases["hearth8"],
                       target=9000, aim_text="hearth >= 9,000 calls/s",
                       notes="%d threads %s; baseline: %d threads, each with its own "
                       "wordcount.py over pipes" % (opts.callers, "each with its own Client"
                                                    if opts.own_clients else "sharing one Client",
                                                    opts.callers)))
    results.append(row("(diag) 1 caller: raw pyzmq echo vs hearth", phases["echo"],
                       phases["hearth1"], notes="baseline: pyzmq DEALER to a pyzmq ROUTER "
                       "echo process, 2 hops: the floor of any round trip here"))
    results.append(row("(diag) 1 caller: bare pyzmq HMP vs Client", phases["bare"],
                       phases["hearth1"], notes="baseline: the same request to wordcount from "
                       "a bare pyzmq DEALER in the calling thread; the difference is what "
                       "the Client adds (locks, waking the caller, its I/O thread)"))
    results.append(row("(diag) 1 caller: hearth.ping vs hearth", phases["ping"],
                       phases["hearth1"], notes="baseline: Client.ping(), answered by the "
                       "broker itself; the difference is the worker leg"))


def s_ping(client, i):
    """hearth.ping, dressed as document i so run_callers can check it."""
    client.ping()
    return as_checked(i)


def check_run_output(lines, count):
    if len(lines) != count:
        raise BenchError("hearth run wrote %d lines for %d documents" % (len(lines), count))
    for i, line in enumerate(lines):
        check(json.loads(line), i, STAGES)


def bench_pipeline(mesh, opts, results, workdir):
    """Item 3: hearth run over a 3-stage route, against the Python client
    calling the stages one after another (a window of futures per stage)."""
    procs = [mesh.service(name, opts.stage_processes, STAGE_EXPERT + [name])[0]
             for name in STAGES]
    docs = [make_doc(i) for i in range(opts.run_docs)]
    src = os.path.join(workdir, "docs.jsonl")
    dst = os.path.join(workdir, "out.jsonl")
    with open(src, "w") as f:
        for doc in docs:
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")

    base = Phase(mesh, "stage by stage (python client)")
    with base:
        current = docs
        for name in STAGES:
            current = submit_window(mesh.client, name, current, opts.jobs, base)
            bad = [r for r in current if isinstance(r, Exception)]
            if bad:
                raise BenchError("stage %s: %s" % (name, bad[0]))
    base.count = len(docs)
    for i, reply in enumerate(current):
        check(reply, i, STAGES)

    run = Phase(mesh, "hearth run")
    argv = [mesh.bins["cli"], "-b", mesh.endpoint, "run", "-j", str(opts.jobs),
            ",".join(STAGES)]
    with open(src, "rb") as stdin, open(dst, "wb") as stdout, run:
        cli = subprocess.Popen(argv, stdin=stdin, stdout=stdout,
                               stderr=subprocess.PIPE, env=mesh.env)
        try:
            _, err = cli.communicate(timeout=PHASE_LIMIT)
        except subprocess.TimeoutExpired:
            cli.kill()
            cli.communicate()
            run.abort()
    if cli.returncode != 0:
        raise BenchError("hearth run exited %d: %s" % (cli.returncode, err.decode()[-500:]))
    with open(dst) as f:
        check_run_output(f.read().splitlines(), len(docs))
    run.count = len(docs)
    for proc in procs:
        mesh.stop(proc)
    results.append(row("3-stage route, %d docs, docs/s" % len(docs), base, run,
                       target=2000, aim_text="hearth run >= 2,000 docs/s",
                       notes="-n %d per stage, -j %d; baseline: Client.submit window %d, "
                       "stage after stage" % (opts.stage_processes, opts.jobs, opts.jobs)))


# ---------------------------------------------------------------- report

def row(name, base, mine, aim=None, target=None, aim_text="", notes=""):
    ratio = mine.rate / base.rate if base.rate > 0 else 0.0
    if aim is not None:
        met = ratio >= aim
    elif target is not None:
        met = mine.rate >= target
    else:
        met = None                      # a diagnostic row: no aim
    return {"benchmark": name, "baseline": round(base.rate, 1), "hearth": round(mine.rate, 1),
            "ratio": round(ratio, 2), "aim": aim_text, "aim_met": met, "notes": notes,
            "baseline_docs": base.count, "baseline_s": round(base.seconds, 3),
            "hearth_docs": mine.count, "hearth_s": round(mine.seconds, 3),
            "cpu_s": {"baseline": _round_map(base.cpu), "hearth": _round_map(mine.cpu)}}


def _round_map(cpu):
    return {k: round(v, 2) for k, v in sorted(cpu.items())}


def print_table(rows, out=sys.stdout):
    width = max(len(r["benchmark"]) for r in rows)
    out.write("%-*s | %10s | %10s | %8s\n" % (width, "benchmark", "baseline", "hearth", "ratio"))
    out.write("%s-|-%s-|-%s-|-%s\n" % ("-" * width, "-" * 10, "-" * 10, "-" * 8))
    for r in rows:
        out.write("%-*s | %10.1f | %10.1f | %7.2fx\n"
                  % (width, r["benchmark"], r["baseline"], r["hearth"], r["ratio"]))
    out.write("\n")
    for r in rows:
        verdict = {True: "aim %s: met" % r["aim"], False: "aim %s: MISSED" % r["aim"],
                   None: "no aim"}[r["aim_met"]]
        out.write("%s: %s\n    %s\n" % (r["benchmark"], verdict, r["notes"]))
        for side in ("baseline", "hearth"):
            cpu = r["cpu_s"][side]
            seconds = r[side + "_s"]
            if cpu and seconds > 0:
                out.write("    CPU %-8s (%.2f s wall): %s\n" % (side, seconds, ", ".join(
                    "%s %.0f%%" % (k, 100 * v / seconds) for k, v in cpu.items())))


# ---------------------------------------------------------------- main

def binaries(opts):
    build = opts.build_dir
    found = {"broker": os.environ.get("HEARTH_BROKER_BIN") or os.path.join(build, "broker", "hearth-broker"),
             "cli": os.environ.get("HEARTH_CLI_BIN") or os.path.join(build, "client", "cli", "hearth"),
             "worker": os.environ.get("HEARTH_WORKER_BIN") or os.path.join(build, "workers", "host", "hearth-worker")}
    for role, path in found.items():
        if not os.access(path, os.X_OK):
            raise SystemExit("bench_experts: no %s binary at %s (set HEARTH_%s_BIN or --build-dir)"
                             % (role, path, role.upper()))
    os.environ["HEARTH_BROKER_BIN"] = found["broker"]     # hearthtest.Broker reads it
    return found


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny counts: a smoke test")
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                   help="where the binaries are when $HEARTH_*_BIN are unset")
    p.add_argument("--only", choices=("slowstart", "client", "pipeline"), action="append",
                   help="run only this benchmark (repeatable)")
    p.add_argument("--load-seconds", type=float, default=0.5)
    p.add_argument("--slow-processes", type=int, default=2, help="-n of both slow-start services")
    p.add_argument("--warm-docs", type=int, default=200)
    p.add_argument("--cold-docs", type=int, default=60)
    p.add_argument("--wc-processes", type=int, default=4)
    p.add_argument("--callers", type=int, default=8)
    p.add_argument("--own-clients", action="store_true",
                   help="each of the callers has its own Client (default: they share one)")
    p.add_argument("--calls-one", type=int, default=6000, help="calls by the single caller")
    p.add_argument("--calls-many", type=int, default=12000, help="calls by all callers together")
    p.add_argument("--rounds", type=int, default=3, help="baseline and hearth take turns")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--stage-processes", type=int, default=2)
    p.add_argument("--run-docs", type=int, default=10000)
    p.add_argument("--jobs", type=int, default=64, help="hearth run -j and the baseline's window")
    opts = p.parse_args(argv)
    if opts.quick:
        opts.warm_docs, opts.cold_docs = 20, 4
        opts.calls_one, opts.calls_many, opts.rounds, opts.warmup = 200, 400, 1, 5
        opts.run_docs = 300
    for name in ("warm_docs", "cold_docs", "calls_one", "calls_many", "rounds",
                 "slow_processes", "wc_processes", "callers", "stage_processes",
                 "run_docs", "jobs"):
        if getattr(opts, name) < 1:
            p.error("--%s must be >= 1" % name.replace("_", "-"))
    return opts


def main(argv=None):
    opts = parse_args(argv if argv is not None else sys.argv[1:])
    bins = binaries(opts)
    only = set(opts.only or ("slowstart", "client", "pipeline"))
    rows, failures = [], []
    mesh = Mesh(bins)
    try:
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as workdir:
            for name, bench in (("slowstart", bench_slowstart), ("client", bench_client),
                                ("pipeline", lambda m, o, r: bench_pipeline(m, o, r, workdir))):
                if name not in only:
                    continue
                try:
                    bench(mesh, opts, rows)
                except BenchError as exc:       # the others still run
                    failures.append("%s: %s" % (name, exc))
                    print("bench_experts: %s FAILED: %s" % (name, exc), file=sys.stderr)
    finally:
        mesh.close()
    if rows:
        print_table(rows)
    for failure in failures:
        print("FAILED %s" % failure)
    if opts.json:
        print(json.dumps({"load_avg": os.getloadavg(), "failures": failures,
                          "results": rows}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
