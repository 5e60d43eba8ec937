"""``tapinfra init DIR [--app NAME] [--force]``: a new cdktf project that uses the installed library.

It writes ``main.py``, ``cdktf.json``, ``tapinfra.json`` (with an ``application`` section),
``src/`` (a small Powertools handler and its ``openapi.json``), ``tests/`` (a snapshot and
assertions that name properties) and a README whose first lines are its two commands; then,
when pytest and syrupy are installed, it records the snapshot, so ``python -m pytest`` passes
from the first run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

from tapinfra._version import __version__

TEMPLATES = "templates"
APP_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,11}$")  # the config's app rule
RENAMED = {"gitignore": ".gitignore"}  # dot files are not package data everywhere


def render(text: str, app: str) -> str:
    return text.replace("__APP__", app).replace("__VERSION__", __version__)


def templates() -> list[tuple[str, bytes]]:
    """``(relative path, bytes)`` of every template file."""
    root = resources.files("tapinfra.scaffold") / TEMPLATES
    found: list[tuple[str, bytes]] = []

    def walk(node, prefix: str) -> None:
        for entry in node.iterdir():
            if entry.name == "__pycache__":
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            else:
                found.append((prefix + RENAMED.get(entry.name, entry.name), entry.read_bytes()))

    walk(root, "")
    return sorted(found)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tapinfra init", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="the new project's folder (created; must be empty unless --force)")
    parser.add_argument("--app", help="application name: lowercase letters and digits, starting with a letter, "
                                      "at most 12 (default: the folder's name)")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty (overwrites our files)")
    parser.add_argument("--no-snapshot", action="store_true", help="do not record the tests' snapshot")
    args = parser.parse_args(argv)
    target = Path(args.dir)
    app = args.app if args.app is not None else re.sub(r"[^a-z0-9]", "", target.resolve().name.lower())
    if not APP_PATTERN.match(app):
        given = "--app" if args.app is not None else "DIR's name"
        print(f"tapinfra init: {given}: got {app!r}; expected lowercase letters and digits, starting with a letter, "
              "at most 12 (it starts every resource name)", file=sys.stderr)
        return 2
    if target.exists() and not target.is_dir():
        print(f"tapinfra init: DIR: got {str(target)!r}; expected a folder to create (it is a file)", file=sys.stderr)
        return 2
    if target.is_dir() and any(target.iterdir()) and not args.force:
        print(f"tapinfra init: DIR: got {str(target)!r}; expected an empty or new folder (it holds files: "
              "add --force to write into it)", file=sys.stderr)
        return 2
    try:
        for rel, data in templates():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(data.decode("utf-8"), app), encoding="utf-8")
    except OSError as exc:
        print(f"tapinfra init: DIR: got {str(target)!r}; expected a folder this user can write "
              f"({exc.strerror}: {exc.filename})", file=sys.stderr)
        return 2
    print(f"created {target}/ for app {app!r}: main.py, cdktf.json, tapinfra.json, src/, tests/, README.md")
    if not args.no_snapshot:
        _record_snapshot(target)
    print(f"next: cd {target} && python main.py && python -m pytest")
    return 0


def _record_snapshot(target: Path) -> None:
    """Run the new project's tests once with --snapshot-update, when pytest and syrupy are there."""
    try:
        import pytest  # noqa: F401
        import syrupy  # noqa: F401
    except ImportError:
        print("pytest and syrupy are not installed (pip install 'tapinfra[test]'): "
              "record the snapshot with `python -m pytest --snapshot-update` once they are")
        return
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--snapshot-update", "tests"],
                          cwd=target, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
        print("recording the snapshot failed (above): fix it, then `python -m pytest --snapshot-update`", file=sys.stderr)
    else:
        print("recorded the tests' snapshot (tests/__snapshots__/)")
