"""Running a real `creneau serve` for the tests that talk to it over the network."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(store: str, *extra: str) -> Iterator[str]:
    """`creneau serve --store STORE [EXTRA…]` on a free port of 127.0.0.1: its base
    address, once it answers; stopped after."""
    port = free_port()
    creneau = shutil.which("creneau", path=str(Path(sys.executable).parent)) or "creneau"
    process = subprocess.Popen([creneau, "serve", "--store", store, "--port", str(port), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "creneau serve did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def call(method: str, url: str, token: str, body: Any = None,
         **headers: str) -> tuple[int, dict[str, str], Any]:  # fmt: skip
    """One JSON request with a bearer token: its status, headers and decoded body
    (refusals included)."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")
