"""Offline Terraform for the tests: the library's ``tapinfra.tfcli`` under the names tests use,
and the one check every terraform-running fixture makes before it hands out a CLI config."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from tapinfra.tfcli import (  # noqa: F401
    AWS_PROVIDER,
    AWS_VERSION,
    MIRROR_ENV,
    cli_config,
    find_mirror,
    is_mirror,
    os_arch,
    run,
    terraform,
)
from tests.conftest import IN_CI


def offline_cli_config(tmp_path_factory, *, checks: str, workdir: str, also_missing: Sequence[str] = ()) -> Path:
    """A CLI config pointing terraform at the offline mirror, written into a fresh ``workdir``.

    Without terraform, the mirror or what ``also_missing`` names, the ``checks`` cannot run:
    CI fails, elsewhere they skip, with every reason in the message.
    """
    missing = []
    if terraform() is None:
        missing.append("terraform is not on PATH")
    mirror = find_mirror()
    if mirror is None:
        missing.append(f"no filesystem mirror of hashicorp/aws {AWS_VERSION} found (set {MIRROR_ENV})")
    missing += also_missing
    if missing:
        reason = f"{checks} NOT RUN: " + "; ".join(missing)
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return cli_config(mirror, tmp_path_factory.mktemp(workdir))
