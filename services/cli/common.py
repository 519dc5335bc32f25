"""What every `deepfakestream` command module shares: one way to turn errors into a line on
stderr and an exit code. The root command group lives in `services/cli/main.py`, which imports
the command modules (`training`, `integrator`); they import only this module, never main."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from shared.errors import DFSError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Map errors to one line on stderr and an exit code, once, for every command."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DFSError as exc:
            click.echo(f"error: {exc.title.lower()}: {exc.detail}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # an unexpected bug: still one line, details with DFS_DEBUG=1
            if os.environ.get("DFS_DEBUG"):
                raise
            click.echo(f"error: internal: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
