"""Fixtures for the Lambda application tests: moto in-process, no AWS.

The handler is imported, once, as the top-level module ``app``
(``lambda_import``). The function's environment is set for that import and, by
an autouse fixture, for each test in this directory only; nothing of it
outlives a test.
Every test also gets fresh AWS mocks, fresh clients and empty caches, so no
state leaks between tests.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # app_testkit, whatever the import mode

from app_testkit import APP_ENV, Api, fresh_aws  # noqa: E402
from lambda_import import import_lambda  # noqa: E402


def pytest_configure(config):
    # Powertools warns once per process when an invocation emits no metric.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")


@pytest.fixture(autouse=True)
def app_env(monkeypatch):
    """The function's environment, for the duration of each test here."""
    for key, value in APP_ENV.items():
        monkeypatch.setenv(key, value)
    return APP_ENV


@pytest.fixture(scope="session")
def lam():
    """The application's modules, imported once under the function's environment."""
    app, clients, clock, config, health, writer = import_lambda("app", "clients", "clock", "config", "health", "writer")

    @dataclass
    class Modules:
        app: object
        clients: object
        clock: object
        config: object
        health: object
        writer: object

    return Modules(app=app, clients=clients, clock=clock, config=config, health=health, writer=writer)


@pytest.fixture
def aws(lam):
    with fresh_aws(lam) as world:
        yield world


@pytest.fixture
def api(lam, aws) -> Api:
    return Api(lam)


@pytest.fixture
def frozen_clock(lam, monkeypatch):
    """Control the application's wall clock: ``frozen_clock.now = ...``."""

    class Clock:
        now = 1_750_000_000

        def advance(self, seconds: int):
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(lam.clock, "now", lambda: clock.now)
    return clock


@pytest.fixture
def set_env(lam, monkeypatch):
    """Change one of the function's environment variables for this test only."""

    def _set(name: str, value: str | None):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
        lam.config.reset()

    yield _set
    lam.config.reset()
