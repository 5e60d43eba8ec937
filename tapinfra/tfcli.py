"""Offline Terraform: find a filesystem mirror of the AWS provider and point terraform at it.

Nothing here names a path of any particular machine: the mirror comes from
``TAP_TF_PROVIDER_MIRROR`` (a filesystem-mirror root), else from a bounded search of the
usual places. The CLI config is generated per run and handed over as ``TF_CLI_CONFIG_FILE``,
so a user's own ``~/.terraformrc`` is never read or changed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
AWS_VERSION = "5.100.0"
MIRROR_ENV = "TAP_TF_PROVIDER_MIRROR"
SEARCH_ROOTS = ("/opt", "/usr/local/share", "/usr/share", "/usr/local/lib", "/var/lib", "~/.terraform.d", "~/.local/share/terraform", "/srv")
SEARCH_DEPTH = 7
CLI_CONFIG_NAME = "terraform.rc"
# Every terraform this process runs, from any thread: an interrupt reaches only the main
# thread, and each terraform has a session of its own, so stop_all() stops them for it.
_LIVE: set[subprocess.Popen[str]] = set()
_LIVE_LOCK = threading.Lock()


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. ``linux_amd64``."""
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def is_mirror(root: Path) -> bool:
    """True when ``root`` is a filesystem mirror holding the pinned AWS provider for this platform."""
    return any((root / AWS_PROVIDER / AWS_VERSION / os_arch()).glob("terraform-provider-aws_*"))


def find_mirror(environ: Optional[Mapping[str, str]] = None) -> Optional[Path]:
    """The mirror root: ``$TAP_TF_PROVIDER_MIRROR`` when set (None if it is not a mirror:
    an explicit but wrong choice is never silently replaced), else the first one found."""
    env = (os.environ if environ is None else environ).get(MIRROR_ENV)
    if env:
        return Path(env) if is_mirror(Path(env)) else None
    for root in SEARCH_ROOTS:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(base):
            depth = len(Path(dirpath).relative_to(base).parts)
            if Path(dirpath).name == "registry.terraform.io" and is_mirror(Path(dirpath).parent):
                return Path(dirpath).parent
            if depth >= SEARCH_DEPTH:
                dirnames.clear()
            dirnames[:] = [d for d in dirnames if not d.startswith(".") or depth == 0]
    return None


def cli_config_text(mirror: Path) -> str:
    """A CLI config that installs the AWS provider from ``mirror`` only and anything else directly."""
    return (
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n    include = [{json.dumps(AWS_PROVIDER)}]\n  }}\n"
        f"  direct {{\n    exclude = [{json.dumps(AWS_PROVIDER)}]\n  }}\n"
        "}\n"
    )


def cli_config(mirror: Path, workdir: Path) -> Path:
    """Write the CLI config into ``workdir``; returns its path (for ``TF_CLI_CONFIG_FILE``)."""
    path = Path(workdir) / CLI_CONFIG_NAME
    path.write_text(cli_config_text(mirror))
    return path


def terraform() -> Optional[str]:
    return shutil.which("terraform")


# Terraform and the AWS provider are Go programs that spend a quarter of their CPU in the
# garbage collector on a stack this size: GOGC=400 (instead of Go's 100) cuts a validate of
# the default example from 24 to 18.5 s CPU for ~20% more memory (bench/README.md). A GOGC
# of the caller's own wins.
GO_GC_PERCENT = "400"


def terraform_env(config: Path, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The environment of every terraform call: our CLI config, no prompts, no phoning home."""
    return {
        "GOGC": GO_GC_PERCENT,
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        **(extra or {}),
    }


def run(
    args: Sequence[str],
    cwd: Path,
    config: Path,
    *,
    timeout: float = 600,
    env: Optional[Mapping[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    """``terraform <args>`` in ``cwd`` with the generated CLI config; output captured as text.

    Terraform runs in a process group of its own: on a timeout or an interrupt the group is
    stopped, so no provider plugin outlives it.
    """
    binary = terraform()
    if binary is None:
        raise FileNotFoundError("terraform is not on PATH")
    process = subprocess.Popen(
        [binary, *args], cwd=cwd, env=terraform_env(config, env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    with _LIVE_LOCK:
        _LIVE.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        _stop_group(process)
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(process)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def stop_all(grace: float = 10) -> None:
    """Stop every terraform this process is running, each by its own process group: for a
    caller that runs terraform from worker threads and was interrupted in the main one."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    _signal_groups(live, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.poll() is None for p in live) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_groups([p for p in live if p.poll() is None], signal.SIGKILL)


def _signal_groups(processes: Sequence[subprocess.Popen[str]], sig: int) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass


def _stop_group(process: subprocess.Popen[str], grace: float = 10) -> None:
    """SIGTERM to terraform's group (it stops cleanly), then SIGKILL to whatever is left of it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()
