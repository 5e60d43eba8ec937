"""``tapinfra init DIR [--app NAME] [--domain NAME] [--force]``: a new cdktf project that uses the installed library.

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
import json
from dataclasses import fields
from pathlib import Path

from tapinfra._version import __version__
from tapinfra.config import DnsConfig
from tapinfra.shortfalls import reserved_domain

TEMPLATES = "templates"
APP_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,11}$")  # the config's app rule
RENAMED = {"gitignore": ".gitignore"}  # dot files are not package data everywhere


def render(text: str, app: str) -> str:
    return text.replace("__APP__", app).replace("__VERSION__", __version__)


def _rule(name: str):
    """The config's own rule for ``dns.<name>`` (pattern, length), so --domain checks what the loader will."""
    (f,) = [f for f in fields(DnsConfig) if f.name == name]
    return re.compile(f.metadata["pattern"]), f.metadata["max_length"]


def domain_problem(domain: str) -> str | None:
    """Why ``--domain`` cannot be the API's name, or None."""
    pattern, longest = _rule("domain_name")
    if len(domain) > longest or not pattern.match(domain):
        return (f"expected a lowercase DNS name of labels joined by dots, at most {longest} characters "
                "(ACM's limit for a certificate), like api.corp.dev")
    if reserved_domain(domain):
        return "expected a domain you own: example.com, .test and the like are reserved for documentation and resolve for no one"
    return None


def with_domain(text: str, domain: str | None) -> str:
    """tapinfra.json routed through Route 53 at ``domain`` (a zone of that name, created), or left without one."""
    if domain is None:
        return text
    config = json.loads(text)
    config["features"] = {**config.get("features", {}), "dns": True}
    routed = {}
    for key, value in config.items():  # the dns section right after features, where a reader looks for it
        routed[key] = value
        if key == "features":
            routed["dns"] = {"create_zone_name": domain, "domain_name": domain}
    return json.dumps(routed, indent=2) + "\n"


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


def write_project(target: Path, app: str, domain: str | None) -> None:
    """Every template, rendered for ``app`` (and ``domain``), written below ``target``."""
    for rel, data in templates():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(data.decode("utf-8"), app)
        path.write_text(with_domain(text, domain) if rel == "tapinfra.json" else text, encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tapinfra init", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="the new project's folder (created; must be empty unless --force)")
    parser.add_argument("--app", help="application name: lowercase letters and digits, starting with a letter, "
                                      "at most 12 (default: the folder's name)")
    parser.add_argument("--domain", help="the API's DNS name, e.g. api.corp.dev: the project creates a Route 53 zone of "
                                         "that name (delegate it from its parent with the zone's NS and DS records) and "
                                         "routes both regions there with health checks. Without it: no custom domain "
                                         "and no failover (features.dns false; the synth warns)")
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
    if args.domain is not None and (why := domain_problem(args.domain)) is not None:
        print(f"tapinfra init: --domain: got {args.domain!r}; {why}", file=sys.stderr)
        return 2
    if target.exists() and not target.is_dir():
        print(f"tapinfra init: DIR: got {str(target)!r}; expected a folder to create (it is a file)", file=sys.stderr)
        return 2
    if target.is_dir() and any(target.iterdir()) and not args.force:
        print(f"tapinfra init: DIR: got {str(target)!r}; expected an empty or new folder (it holds files: "
              "add --force to write into it)", file=sys.stderr)
        return 2
    try:
        write_project(target, app, args.domain)
    except OSError as exc:
        print(f"tapinfra init: DIR: got {str(target)!r}; expected a folder this user can write "
              f"({exc.strerror}: {exc.filename})", file=sys.stderr)
        return 2
    print(f"created {target}/ for app {app!r}: main.py, cdktf.json, tapinfra.json, src/, tests/, README.md")
    if args.domain is None:
        print("no --domain: no custom domain and no Route 53 routing, so nothing fails clients over from a failing "
              "region (features.dns false; health checks and their alarms stay). Give the dns section a zone you own "
              "and set features.dns, or run init again with --domain")
    else:
        print(f"routed at {args.domain} in both regions: delegate the zone {args.domain} from its parent "
              "(its NS and DS records are the stack's outputs)")
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
