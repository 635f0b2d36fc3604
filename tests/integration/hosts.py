"""Several hosts on this machine, for the tests of what crosses a network: each host a
network namespace (``ip netns``) joined to this one by a veth pair, and a PostgreSQL
cluster of the test's own (``initdb``, ``pg_ctl``) listening on this side of every
pair, so that each host reaches the database over its own link, as on a platform.
Everything is removed after: the processes, the namespaces (their links with them), the
cluster. Needs root (namespaces) and PostgreSQL's server programs."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

PG_BIN = Path("/usr/lib/postgresql")
PORT = 54329
NET = "10.231"


def _pg(program: str) -> str:
    found = sorted(PG_BIN.glob(f"*/bin/{program}"))
    if found:
        return str(found[-1])
    return shutil.which(program) or program


def require() -> None:
    """Fail at once, in one line, when this machine cannot make hosts."""
    if os.geteuid() != 0:
        pytest.fail("the multi-host tests make network namespaces: run them as root",
                    pytrace=False)  # fmt: skip
    if shutil.which("ip") is None or not Path(_pg("initdb")).exists():
        pytest.fail("the multi-host tests need iproute2 (ip) and PostgreSQL's initdb/pg_ctl",
                    pytrace=False)  # fmt: skip


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


class Host:
    """One host: a namespace, its address, and the processes started in it."""

    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.address = f"{NET}.{index}.2"
        self.gateway = f"{NET}.{index}.1"  # this side of its link: where PostgreSQL listens
        self.processes: list[subprocess.Popen[bytes]] = []

    def store(self, schema: str) -> str:
        """The store's address as this host reaches it: over its own link."""
        return f"postgresql://postgres@{self.gateway}:{PORT}/test?schema={schema}"

    def start(self, *argv: str, log: Path) -> subprocess.Popen[bytes]:
        """``creneau ARGV…`` run in this host; its output in ``log``."""
        creneau = shutil.which("creneau", path=str(Path(sys.executable).parent)) or "creneau"
        out = log.open("ab")
        # `ip netns exec` execs the command: the process is the command itself (kill -9
        # reaches the worker, not a wrapper).
        process = subprocess.Popen(["ip", "netns", "exec", self.name, creneau, *argv],
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        out.close()
        self.processes.append(process)
        return process

    def serve(self, store: str, log: Path, port: int = 8000) -> str:
        """`creneau serve --queue` on this host: its base address once it answers."""
        process = self.start("serve", "--store", store, "--host", self.address, "--port",
                             str(port), "--queue", log=log)  # fmt: skip
        base = f"http://{self.address}:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                return base
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "creneau serve did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.processes.clear()


@contextlib.contextmanager
def network(count: int) -> Iterator[list[Host]]:
    """``count`` hosts sharing one database (``test``, trust authentication; each host
    names it with ``Host.store``); all gone after."""
    require()
    tag = f"{os.getpid() % 10000}"
    hosts = [Host(f"creneau-h{i}-{tag}", i) for i in range(1, count + 1)]
    folder = Path(tempfile.mkdtemp(prefix="creneau-pg-"))
    data = folder / "data"
    made: list[Host] = []
    started = False
    try:
        for i, host in enumerate(hosts, start=1):
            outside, inside = f"crv{tag}o{i}", f"crv{tag}i{i}"
            _sh("ip", "netns", "add", host.name)
            made.append(host)
            _sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            _sh("ip", "link", "set", inside, "netns", host.name)
            _sh("ip", "addr", "add", f"{host.gateway}/30", "dev", outside)
            _sh("ip", "link", "set", outside, "up")
            _sh("ip", "netns", "exec", host.name, "ip", "addr", "add", f"{host.address}/30",
                "dev", inside)  # fmt: skip
            _sh("ip", "netns", "exec", host.name, "ip", "link", "set", inside, "up")
            _sh("ip", "netns", "exec", host.name, "ip", "link", "set", "lo", "up")
        shutil.chown(folder, "postgres", "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", _pg("initdb"), "-D", str(data),
                        "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True)  # fmt: skip
        listen = ",".join(h.gateway for h in hosts)
        options = (f"-c listen_addresses='{listen}' -p {PORT} -c unix_socket_directories="
                   f"'{folder}' -c fsync=off -c max_connections=200")  # fmt: skip
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NET}.0.0/16 trust\n")
        subprocess.run(["runuser", "-u", "postgres", "--", _pg("pg_ctl"), "-D", str(data),
                        "-o", options, "-l", str(folder / "server.log"), "-w", "start"],
                       check=True, capture_output=True)  # fmt: skip
        started = True
        admin = f"postgresql://postgres@{hosts[0].gateway}:{PORT}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")
        yield hosts
    finally:
        for host in hosts:
            host.stop()
        if started:
            subprocess.run(["runuser", "-u", "postgres", "--", _pg("pg_ctl"), "-D", str(data),
                            "-m", "immediate", "stop"], capture_output=True)  # fmt: skip
        for host in made:
            subprocess.run(["ip", "netns", "delete", host.name], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def proposed(address: str, edition: str) -> list[Any]:
    """The ``schedule.proposed`` events of an edition's log, in order."""
    from creneau.adapters.bootstrap import open_store
    from creneau.scheduler import EditionService
    from creneau.scheduler._events import ScheduleProposed

    service = EditionService(open_store(address))
    events = service.events_of(service.store.read_stream(f"edition-{edition}"))
    return [e for e in events if isinstance(e, ScheduleProposed)]
