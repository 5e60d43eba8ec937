"""The real application (``lambda/app.py``) served on 127.0.0.1 as API Gateway would serve it.

Each endpoint is a tiny HTTP server that turns a request into the API Gateway proxy event
(``app_testkit.make_event``), maps the ``x-api-key`` value to that region's key id the way
API Gateway does (403 for an unknown key, except on /health), and calls the handler. Two
"regions" share one moto table, which is what the global table's replication looks like
from outside. Every server is stopped through its own handle when the block ends.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))  # app_testkit, lambda_import

from app_testkit import LAMBDA_DIR, LambdaContext, make_event  # noqa: E402
from lambda_import import import_lambda  # noqa: E402

KEY_VALUE = "smoke-secret-value"
# API Gateway gives each region its own key id for the same value; both map to tenant-a.
KEY_IDS = {"primary": "key-a", "secondary": "key-a-eu"}


def import_application():
    """``lambda/app.py`` imported as the top-level module ``app``, under the function's environment."""
    if "app" in sys.modules and Path(sys.modules["app"].__file__).resolve().parent == LAMBDA_DIR:
        return sys.modules["app"]
    (app,) = import_lambda("app")
    return app


def _handler_class(app, key_id: str, stage_prefix: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _serve(self):
            url = urlsplit(self.path)
            path = url.path
            if stage_prefix:
                if not path.startswith(stage_prefix + "/"):
                    return self._reply(403, {"message": "Forbidden"}, {})
                path = path[len(stage_prefix):]
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else None
            key = self.headers.get("x-api-key")
            if path.rstrip("/") != "/health" and key != KEY_VALUE:
                return self._reply(403, {"message": "Forbidden"}, {})
            event = make_event(self.command, path, body=body, key=key_id if key == KEY_VALUE else None,
                               query=dict(parse_qsl(url.query)) or None,
                               headers={k.lower(): v for k, v in self.headers.items()})
            response = app.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
            headers = dict(response.get("headers") or {})
            self._reply(response["statusCode"], response.get("body") or "", headers)

        def _reply(self, status: int, body, headers: Mapping[str, str]):
            raw = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


@contextlib.contextmanager
def serve(app, endpoints: Mapping[str, tuple[str, str]]) -> Iterator[dict[str, str]]:
    """Start one server per endpoint name -> (region role, stage prefix); yield name -> base URL."""
    servers: list[HTTPServer] = []
    threads: list[threading.Thread] = []
    try:
        urls = {}
        for name, (role, stage) in endpoints.items():
            server = HTTPServer(("127.0.0.1", 0), _handler_class(app, KEY_IDS[role], stage))
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            try:
                thread.start()
            except BaseException:
                server.server_close()
                raise
            servers.append(server)   # only a running server is shut down (shutdown() waits for serve_forever)
            threads.append(thread)
            urls[name] = f"http://127.0.0.1:{server.server_address[1]}{stage}"
        yield urls
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=10)
