"""moto's server on a free local port, holding the first request that a predicate picks
until the test releases it: a command in its own process is then certain to be waiting
on AWS when the test sends it a signal, without any delay in irready itself."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from moto.moto_server.threaded_moto_server import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    ThreadedMotoServer,
    create_backend_app,
    make_server,
)

WAIT_SECONDS = 60
Hold = Callable[[dict[str, Any]], bool]  # the WSGI environ of a request: hold it?


def not_sts(environ: dict[str, Any]) -> bool:
    """Any request but STS's (the caller's identity is asked first)."""
    return "/sts/aws4_request" not in environ.get("HTTP_AUTHORIZATION", "")


class GatedMotoServer(ThreadedMotoServer):
    """moto's server, holding the first request `hold` picks (and any after it) until
    released."""

    def __init__(self, hold: Hold = not_sts) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.hold = hold
        self.arrived = threading.Event()
        self.release = threading.Event()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def _server_entry(self) -> None:
        backend = DomainDispatcherApplication(create_backend_app)

        def gate(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not self.release.is_set() and self.hold(environ):
                self.arrived.set()
                self.release.wait(WAIT_SECONDS)
            result: Iterable[bytes] = backend(environ, start_response)
            return result

        self._server = make_server(self._ip_address, self._port, gate, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def gated(monkeypatch: pytest.MonkeyPatch, hold: Hold = not_sts) -> Iterator[GatedMotoServer]:
    """A started server, stopped (and released) at the end of the test."""
    # werkzeug logs one line per request otherwise; restored after the test
    monkeypatch.setattr(logging.getLogger("werkzeug"), "level", logging.ERROR)
    server = GatedMotoServer(hold)
    server.start()
    try:
        yield server
    finally:
        server.release.set()
        server.stop()
