"""The `harvester` click group and what every command shares: the --config/--catalog and --now
options, loading the config, and turning library errors into one clear line and an exit status
(2 for a user's mistake, 1 for a failure, 75 for a busy lock). The commands live in their own
modules; harvester.cli.main registers them on the group."""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from harvester.errors import (
    CatalogError,
    ConfigError,
    HarvesterError,
    LockBusyError,
    ReadOnlyQueryError,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: cron wrappers read it as "try again later"


class Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handle_errors(func: Callable) -> Callable:
    """Library errors become one line and an exit status. So do the errors the machine raises
    that no user command can prevent (a full disk, an unreadable file, a damaged catalog met
    outside the library's own checks, memory): a user should see what happened, never a
    traceback; a bug in our own code still shows its traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import sqlite3

        try:
            return func(*args, **kwargs)
        except (ConfigError, ReadOnlyQueryError) as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except LockBusyError as exc:
            raise Failure(str(exc), EXIT_LOCKED) from None
        except (CatalogError, HarvesterError) as exc:
            raise Failure(str(exc), EXIT_FAILED) from None
        except sqlite3.DatabaseError as exc:
            from catalog.db import storage_error

            error = storage_error(exc, kwargs.get("catalog_path") or "the catalog")
            if error is None:
                raise
            raise Failure(str(error), EXIT_FAILED) from None
        except BrokenPipeError:
            # The reader went away (`harvester sql ... | head`): nothing to say, and nothing
            # more to flush into the closed pipe at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(EXIT_FAILED) from None
        except MemoryError:
            raise Failure("out of memory: the answer is too large for this machine "
                          "(narrow the query, or write it as --format csv)", EXIT_FAILED) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}", EXIT_FAILED) from None

    return wrapper


class Seconds(click.ParamType):
    """A duration in seconds: a finite number, 0 or more (click's FloatRange lets nan through)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"not a number of seconds: {value!r}", param, ctx)
        if not math.isfinite(number) or number < 0:
            self.fail(f"must be a finite number of seconds, 0 or more; got {value!r}", param, ctx)
        return number


SECONDS = Seconds()
PORT = click.IntRange(0, 65535)


def common_options(func: Callable) -> Callable:
    """--config and --catalog, accepted after every command's name."""
    func = click.option("--catalog", "catalog_path", metavar="PATH",
                        help="Catalog file (overrides [catalog] path).")(func)
    func = click.option("--config", "config_path", metavar="PATH",
                        help="Config file (default: $HARVESTER_CONFIG, else the packaged one).")(func)
    return func


def now_option(func: Callable) -> Callable:
    def set_now(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value:
            from harvester.timeutil import iso, parse_clock

            try:
                os.environ["HARVESTER_NOW"] = iso(parse_clock(value))
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
        return value

    return click.option("--now", metavar="ISO", expose_value=False, callback=set_now,
                        is_eager=True,
                        help="Pretend the clock says this UTC time (for replays and tests).")(func)


def load(config_path: str | None, catalog_path: str | None):
    from harvester.config import load_config

    return load_config(config_path, catalog_override=catalog_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harvester-3i")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--log-format", type=click.Choice(["human", "json"]), default="human",
              show_default=True, help="Log lines as text, or as one JSON object per line.")
@click.option("--log-file", metavar="PATH",
              help="Append log lines to this file instead of stderr (logrotate-safe).")
def cli(verbose: int, log_format: str, log_file: str | None) -> None:
    """Watch public science archives for the interstellar comet 3I/ATLAS and keep one SQL
    catalog of what they publish.

    \b
    Start here:
      harvester demo                 offline tour against local sandbox archives
      harvester run                  harvest the real archives into harvester.db
      harvester sql "select archive, count(*) from products group by archive"
    """
    from harvester.logs import setup_logging

    check_clock_variable()
    try:
        setup_logging(verbosity=verbose, fmt=log_format, path=log_file)
    except ConfigError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None


def check_clock_variable() -> None:
    """HARVESTER_NOW moves every command's clock; a bad value is one line here, not a traceback
    from wherever the clock is first read."""
    value = os.environ.get("HARVESTER_NOW")
    if not value:
        return
    from harvester.timeutil import parse_clock

    try:
        parse_clock(value)
    except ValueError as exc:
        raise Failure(f"HARVESTER_NOW: {exc}", EXIT_USAGE) from None
