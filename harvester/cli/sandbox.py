"""`harvester sandbox`: the local stand-ins for the archives, for tests and demos."""

from __future__ import annotations

import errno
import time

import click

from harvester.cli.group import PORT, handle_errors


@click.command()
@click.option("--port", type=PORT, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="Scenario JSON (default: the packaged 3I/ATLAS scenario).")
@handle_errors
def sandbox(port: int, host: str, scenario: str | None) -> None:
    """Run local stand-ins for the archives (MAST, PDS, PSA, ObsCore TAP, MPC, JPL SBDB, CNSA)
    from a scenario, for tests and demos.

    \b
    Example:
      harvester sandbox --port 8765 &
      harvester run --config sandbox.toml     (base_url = "http://127.0.0.1:8765/mast" ...)
    """
    from harvester.errors import ConfigError, HarvesterError
    from harvester.sandbox import Sandbox, default_scenario, load_scenario

    try:
        data = load_scenario(scenario) if scenario else default_scenario()
        server = Sandbox(data, host=host, port=port)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # A scenario is hand-written JSON; whatever in it the archives cannot load is one line.
        detail = f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"--scenario {scenario}: not a usable scenario: {detail}") from None
    except OSError as exc:
        raise ConfigError(f"--scenario {scenario}: cannot read it: {exc.strerror or exc}") from None
    try:
        server.start()
    except OSError as exc:
        raise HarvesterError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                             + (" (give another --port, or 0 for a free one)"
                                if exc.errno == errno.EADDRINUSE else "")) from None
    click.echo(f"sandbox archives on {server.url} (clock {server.clock.isoformat()})")
    for kind, url in server.base_urls.items():
        if kind == "sbdb":
            click.echo(f'  [target] sbdb_url = "{url}"')
        else:
            click.echo(f'  [sources.{kind}] base_url = "{url}"')
    if "mpc" in server.base_urls:
        click.echo(f'  [target] mpc_url = "{server.base_urls["mpc"]}"')
    click.echo("Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
