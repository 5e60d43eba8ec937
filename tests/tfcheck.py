"""Offline Terraform: find the provider mirror on this machine and point terraform at it.

Nothing here names a path of any particular machine: the mirror comes from
``TAP_TF_PROVIDER_MIRROR`` (a filesystem-mirror root), else from a bounded search of the
usual places. The CLI config is generated per run (``TF_CLI_CONFIG_FILE``).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
AWS_VERSION = "5.100.0"
SEARCH_ROOTS = ("/opt", "/usr/local/share", "/usr/share", "/usr/local/lib", "/var/lib", "~/.terraform.d", "~/.local/share/terraform", "/srv")
SEARCH_DEPTH = 7


def os_arch() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def _is_mirror(root: Path) -> bool:
    return any((root / AWS_PROVIDER / AWS_VERSION / os_arch()).glob("terraform-provider-aws_*"))


def find_mirror() -> Path | None:
    env = os.environ.get("TAP_TF_PROVIDER_MIRROR")
    if env:
        return Path(env) if _is_mirror(Path(env)) else None
    for root in SEARCH_ROOTS:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        for dirpath, dirnames, _ in os.walk(base):
            depth = len(Path(dirpath).relative_to(base).parts)
            if Path(dirpath).name == "registry.terraform.io" and _is_mirror(Path(dirpath).parent):
                return Path(dirpath).parent
            if depth >= SEARCH_DEPTH:
                dirnames.clear()
            dirnames[:] = [d for d in dirnames if not d.startswith(".") or depth == 0]
    return None


def cli_config(mirror: Path, workdir: Path) -> Path:
    path = workdir / "terraform.rc"
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{AWS_PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{AWS_PROVIDER}"]\n  }}\n'
        "}\n"
    )
    return path


def terraform() -> str | None:
    return shutil.which("terraform")


def run(args: list[str], cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run([terraform(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
