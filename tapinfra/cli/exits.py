"""The exit-code policy every ``python -m tapinfra`` command and ``main.py`` follow, in one place.

0: done (for a command that judges something: nothing wrong found). 1: the command ran and its
verdict is "not ok" (``review``'s findings, a failed smoke check, a drill that did not complete,
AWS refusing a call). 2: bad input: an argument, a file the command reads, or the environment it
needs (AWS credentials, region, endpoint), told in one message that names it, the value and what
is allowed. A traceback is never an answer: :func:`command` turns every input error into exit 2,
and leaves ``SystemExit`` (argparse's ``--help`` 0 and usage errors 2) alone.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Iterable, Optional

from tapinfra.errors import ConfigError, Problem
from tapinfra.strict_json import Literal

OK, NOT_OK, BAD_INPUT = 0, 1, 2


class InputError(ConfigError):
    """Bad input that is not a config file: an argument, a file a command reads, the environment.

    A ``ConfigError`` (callers that catch that catch this), printed as its problems alone: the
    "invalid tapinfra configuration" heading would misname an outputs file or a missing credential.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(problems)
        self.args = ("\n".join(str(p) for p in self.problems),)


def aws_environment_problem(exc: BaseException) -> Optional[Problem]:
    """What to set when botocore cannot start a call (no credentials, no region, no endpoint); else None."""
    if not type(exc).__module__.startswith("botocore"):
        return None
    from botocore import exceptions as bx  # only imported when botocore itself raised

    if isinstance(exc, bx.PartialCredentialsError):
        return Problem("AWS credentials", Literal(f"<partial: {exc.kwargs.get('cred_var', 'a value')} is missing>"),
                       "both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a complete AWS_PROFILE)")
    if isinstance(exc, bx.NoCredentialsError):
        return Problem("AWS credentials", Literal("<none found>"),
                       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or another source boto3 reads")
    if isinstance(exc, bx.NoRegionError):
        return Problem("AWS region", Literal("<none set>"), "AWS_REGION (or AWS_DEFAULT_REGION), e.g. us-east-1")
    if isinstance(exc, bx.InvalidRegionError):
        return Problem("AWS region", exc.kwargs.get("region_name"), "a region name such as us-east-1")
    if isinstance(exc, bx.EndpointConnectionError):
        return Problem("AWS endpoint", exc.kwargs.get("endpoint_url"),
                       "an endpoint this machine can reach: check the network, or set AWS_ENDPOINT_URL "
                       "(e.g. http://127.0.0.1:5000 for a local moto server)")
    return None


def aws_refusal(exc: BaseException) -> Optional[str]:
    """The one line for an AWS error answer (access denied, a missing parameter...); None if it is not one."""
    response = getattr(exc, "response", None)
    if not type(exc).__module__.startswith("botocore") or not isinstance(response, dict):
        return None
    error = response.get("Error") or {}
    return f"AWS refused {getattr(exc, 'operation_name', 'a call')}: {error.get('Code', '?')}: {error.get('Message', '')}"


def report(prog: str, exc: BaseException) -> Optional[int]:
    """Print ``exc`` as ``prog``'s one message and return its exit code; None when it is not an input error."""
    if isinstance(exc, ConfigError):
        print(f"{prog}: {exc}", file=sys.stderr)
        return BAD_INPUT
    problem = aws_environment_problem(exc)
    if problem is not None:
        print(f"{prog}: {problem}", file=sys.stderr)
        return BAD_INPUT
    refusal = aws_refusal(exc)
    if refusal is not None:
        print(f"{prog}: {refusal}", file=sys.stderr)
        return NOT_OK
    return None


def command(prog: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a command's ``main(argv, ...)``: input errors become one message on stderr and exit 2."""

    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str], *args: Any, **kwargs: Any) -> int:
            try:
                return main(argv, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - only input errors are answered; the rest re-raised
                code = report(prog, exc)
                if code is None:
                    raise
                return code

        return run

    return decorate
