"""PostgreSQL restarting under load: the API answers 503 while it is down and recovers by
itself; the outbox loses nothing. Uses a private PostgreSQL server started by the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from runner.db import read_session
from runner.models import Notification
from runner.runtime import Runtime
from runner.serving import ServerThread
from runner.settings import Settings
from tests.conftest import DemoTarget
from tests.monitor_support import add_account, bearer

pytest_plugins = ("tests.monitor_support",)
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
pytestmark = pytest.mark.skipif(
    PG_BIN is None or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs PostgreSQL's server binaries and root (to run them as postgres)",
)


class PrivateServer:
    def __init__(self, folder: Path) -> None:
        assert PG_BIN is not None
        self.folder, self.bin = folder, PG_BIN
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60
        )

    def init(self) -> None:
        self.folder.mkdir(parents=True)
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.folder / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    # The postgres user must reach the folder; pytest's tmp_path is under a root-only folder.
    folder = Path(tempfile.gettempdir()) / f"goldwatch-pg-{os.getpid()}-{time.monotonic_ns()}"
    server = PrivateServer(folder)
    server.init()
    server.start()
    try:
        yield server
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(server.bin / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_api_answers_503_while_the_database_restarts_and_recovers(
    private_postgres: PrivateServer, flow_settings: Settings, demo_target: DemoTarget
) -> None:
    settings = flow_settings.model_copy(
        update={"database_url": private_postgres.url, "web_base_url": ""}
    )
    runtime = Runtime.start(settings)
    token = add_account(runtime.engine, "admin@platform.test", "admin")
    demo_target.fault("api_down")
    runtime.pipeline.notify = None  # leave the alert queued across the restart
    runtime.pipeline.run(runtime.checks["api_health"])
    with read_session(runtime.engine) as session:
        queued = session.exec(select(Notification)).all()
    assert [n.status for n in queued] == ["pending"]

    codes: Counter[int] = Counter()
    stop = threading.Event()
    with ServerThread(create_app(settings, runtime)) as server:
        client = httpx.Client(base_url=server.url, headers=bearer(token), timeout=10)

        def load() -> None:
            while not stop.is_set():
                try:
                    codes[client.get("/api/monitoring/status").status_code] += 1
                except httpx.HTTPError:
                    codes[0] += 1  # the server dropped the connection

        workers = [threading.Thread(target=load) for _ in range(3)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(0.5)
            private_postgres.stop()
            time.sleep(0.5)
            down = client.get("/healthz")
            assert down.status_code == 503
            assert client.get("/api/monitoring/status").status_code == 503
            assert runtime.alerting is not None
            runtime.alerting.deliver()  # must not raise while the database is away
            private_postgres.start()
            deadline = time.monotonic() + 15
            while client.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover"
                time.sleep(0.2)
            assert client.get("/api/monitoring/status").status_code == 200
        finally:
            stop.set()
            for worker in workers:
                worker.join(10)
            client.close()

    assert set(codes) <= {200, 503}, codes
    assert codes[200] > 0 and codes[503] > 0, codes
    assert runtime.alerting is not None
    runtime.alerting.deliver()
    with read_session(runtime.engine) as session:
        after = session.exec(select(Notification)).all()
    assert [(n.id, n.status) for n in after] == [(queued[0].id, "sent")]
    runtime.engine.dispose()
