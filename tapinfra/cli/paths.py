"""Checking, before any work, that a command can write where it was told to.

Synthesis and rendering find out late (jsii answers ENOENT, ENOTDIR, EISDIR or EROFS with a
JavaScript trace); here the same facts become one :class:`~tapinfra.errors.Problem` up front.
Writability is tried, not inferred from mode bits: a probe file is created and removed, so the
answer is right for root (whom ``chmod`` does not stop), read-only mounts and ACLs alike.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

from tapinfra.errors import Problem

DIRECTORY = "a directory path that exists or can be created, and that this user can write to"
FILE = "a file path whose directory exists or can be created and is writable, not a directory"


def directory_problem(name: str, value: str, *inside: str) -> Optional[Problem]:
    """None when ``value`` and ``value/inside[0]/inside[1]/…`` are, or are now made, writable directories."""
    if not value or "\0" in value:
        return Problem(name, value, f"{DIRECTORY} (not empty)" if not value else DIRECTORY)
    chain = [Path(value)]
    for part in inside:
        chain.append(chain[-1] / part)
    for path in chain:
        if path.exists() and not path.is_dir():
            return Problem(name, value, f"{DIRECTORY} ({path} is a file, not a directory)")
    try:
        chain[-1].mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Problem(name, value, f"{DIRECTORY} (cannot create {exc.filename or chain[-1]}: {exc.strerror})")
    for path in chain:
        reason = _cannot_write(path)
        if reason is not None:
            return Problem(name, value, f"{DIRECTORY} (cannot write in {path}: {reason})")
    return None


def file_problem(name: str, value: str) -> Optional[Problem]:
    """None when ``value`` can be written as a file (its directory is created if missing)."""
    if not value or "\0" in value:
        return Problem(name, value, FILE)
    path = Path(value)
    if path.is_dir() or value.endswith(os.sep):
        return Problem(name, value, f"{FILE} ({value} is a directory)")
    parent = directory_problem(name, str(path.parent))
    if parent is not None:
        return Problem(name, value, FILE + parent.allowed[len(DIRECTORY):])
    if path.exists() and not os.access(path, os.W_OK):
        return Problem(name, value, f"{FILE} ({value} exists and is read-only)")
    return None


def _cannot_write(directory: Path) -> Optional[str]:
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".tapinfra-probe-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(handle)
    os.unlink(probe)
    return None
