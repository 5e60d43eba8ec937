"""A moto server of our own for one rehearsal: started on a free loopback port, always stopped.

The server binds port 0 and we read the port it got from its own log line, so two
rehearsals (or another engineer's emulator) never race for a port. It is stopped by its
pid whatever happens: ``with`` block, ``atexit``, and SIGTERM/SIGINT handlers that stop it
and then behave as before.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

HOST = "127.0.0.1"
REGION_FOR_CLIENTS = "us-east-1"
READY_SECONDS = 60
STOP_SECONDS = 10
_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
# moto's server with the server gaps fixed in its own process (tapinfra/rehearsal/gaps.py).
LAUNCHER = Path(__file__).with_name("moto_server.py")

# Every real account has the AWS-managed IAM policies; moto has them only when asked, and an
# attachment by ARN would otherwise fail where AWS succeeds.
SERVER_ENV = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
CLIENT_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class EmulatorError(RuntimeError):
    pass


class MotoServer:
    """``with MotoServer(log) as server: server.endpoint`` -- one moto server process."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = Path(log_path)
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.endpoint: Optional[str] = None
        self._previous_handlers: dict[int, Any] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._session: Any = None

    def start(self) -> str:
        if self.process is not None:
            raise EmulatorError("moto server already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                [sys.executable, str(LAUNCHER), "-H", HOST, "-p", "0"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **SERVER_ENV},
                # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order.
                start_new_session=True,
            )
        finally:
            log.close()
        atexit.register(self.stop)
        self._install_signal_handlers()
        try:
            self.endpoint = f"http://{HOST}:{self._wait_for_port()}"
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.endpoint

    def stop(self) -> None:
        """Stop our server (by its pid only); safe to call twice."""
        process, self.process = self.process, None
        self._restore_signal_handlers()
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_SECONDS)

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process is not None else None

    def client(self, service: str, region: str = REGION_FOR_CLIENTS):
        """A boto3 client against this server, with the test credentials (one per service and region)."""
        if (service, region) not in self._clients:
            import botocore.config

            if self._session is None:
                import boto3

                # One session: it loads each service model once for every region's client.
                self._session = boto3.session.Session(
                    aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"], aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"])
            # No retries: a local server that fails once fails again, and a probe wants the first answer.
            config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})
            self._clients[service, region] = self._session.client(
                service, region_name=region, endpoint_url=self.endpoint, config=config)
        return self._clients[service, region]

    def __enter__(self) -> "MotoServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if found:
                return int(found.group(1))
            if self.process is None or self.process.poll() is not None:
                raise EmulatorError(f"moto server exited before listening; log: {self.log_path}")
            time.sleep(0.1)
        raise EmulatorError(f"moto server did not report its port within {READY_SECONDS} s; log: {self.log_path}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise EmulatorError(f"moto server at {self.endpoint} not ready within {READY_SECONDS} s; log: {self.log_path}")

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers; atexit and finally still stop the server
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        handlers, self._previous_handlers = self._previous_handlers, {}
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        previous = self._previous_handlers.get(signum, signal.SIG_DFL)
        self.stop()
        if callable(previous):
            previous(signum, frame)  # SIGINT's own: KeyboardInterrupt
        elif previous != signal.SIG_IGN:
            # As for Ctrl-C: pytest ends the session, every finally runs, and the terraform
            # child is killed by subprocess.run on the way out.
            raise KeyboardInterrupt(f"signal {signum}")
