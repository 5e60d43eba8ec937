"""``python -m tapinfra cli-config [--out FILE]``: the Terraform CLI config for an air-gapped machine.

Writes a config that installs hashicorp/aws from the offline filesystem mirror
(``$TAP_TF_PROVIDER_MIRROR``, else the first mirror found on the machine) and prints the one
line that points terraform and cdktf at it, so ``eval "$(python -m tapinfra cli-config)"``
works. The user's own ``~/.terraformrc`` is neither read nor changed.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tapinfra import tfcli
from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.cli.paths import file_problem
from tapinfra.errors import Problem

DEFAULT_OUT = "terraform.rc"


@command("tapinfra cli-config")
def main(argv: list[str]) -> int:
    """Exit 0 with the file written; 1 when this machine has no provider mirror; 2 on a bad --out."""
    parser = argparse.ArgumentParser(prog="python -m tapinfra cli-config", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"file to write (default: ./{DEFAULT_OUT})")
    args = parser.parse_args(argv)
    problem = file_problem("--out", args.out)  # the argument first: exit 2, whatever the machine has
    if problem is not None:
        raise InputError([problem])
    mirror = tfcli.find_mirror()
    if mirror is None:
        print(
            f"tapinfra cli-config: no filesystem mirror of {tfcli.AWS_PROVIDER} {tfcli.AWS_VERSION} for {tfcli.os_arch()}: "
            f"set {tfcli.MIRROR_ENV} to its root (make one with `terraform providers mirror DIR` on a connected machine)",
            file=sys.stderr,
        )
        return NOT_OK
    out = Path(args.out).resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(tfcli.cli_config_text(mirror))
    except OSError as exc:
        raise InputError([Problem("--out", args.out, f"a writable file path (writing {out} failed: {exc.strerror or exc})")]) from None
    print(f"wrote {out} (provider mirror: {mirror})", file=sys.stderr)
    print(f"export TF_CLI_CONFIG_FILE={shlex.quote(str(out))}")
    return OK
