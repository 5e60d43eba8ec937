import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tapinfra  # noqa: E402

tapinfra.enable_fast_import()  # before anything imports cdktf: the same output, several times faster

from tests.synth import EXAMPLE_NAMES, Tf, example_config, synth  # noqa: E402

# CI must run every check; on a developer machine a missing tool may skip, loudly.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", params=EXAMPLE_NAMES)
def example(request):
    """(name, Synth) for each example config."""
    return request.param, synth(example_config(request.param))


@pytest.fixture(scope="session")
def default_tf():
    return Tf(synth(example_config("default")).doc)


@pytest.fixture(scope="session")
def full_tf():
    return Tf(synth(example_config("full")).doc)


@pytest.fixture(scope="session")
def minimal_tf():
    return Tf(synth(example_config("minimal")).doc)


@pytest.fixture(scope="session", params=EXAMPLE_NAMES)
def any_tf(request):
    return Tf(synth(example_config(request.param)).doc)
