"""The `harvester` click group and what every command shares: the --config/--catalog and --now
options, loading the config, and turning library errors into one clear line and an exit status
(2 for a user's mistake, 1 for a failure, 75 for a busy lock). The commands live in their own
modules; harvester.cli.main registers them on the group."""

from __future__ import annotations

import functools
import os
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
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, ReadOnlyQueryError) as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except LockBusyError as exc:
            raise Failure(str(exc), EXIT_LOCKED) from None
        except (CatalogError, HarvesterError) as exc:
            raise Failure(str(exc), EXIT_FAILED) from None

    return wrapper


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
            from harvester.timeutil import iso, parse_iso

            try:
                os.environ["HARVESTER_NOW"] = iso(parse_iso(value))
            except ValueError:
                raise click.BadParameter(f"not an ISO date or time: {value!r}") from None
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

    try:
        setup_logging(verbosity=verbose, fmt=log_format, path=log_file)
    except ConfigError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
