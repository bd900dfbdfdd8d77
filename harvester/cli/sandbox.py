"""`harvester sandbox`: the local stand-ins for the archives, for tests and demos."""

from __future__ import annotations

import time

import click

from harvester.cli.group import handle_errors


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
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
    from harvester.sandbox import Sandbox, default_scenario, load_scenario

    data = load_scenario(scenario) if scenario else default_scenario()
    server = Sandbox(data, host=host, port=port)
    server.start()
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
