"""The target's positions from JPL Horizons, per observer, cached in the catalog.

`model` is the ephemeris itself (times and positions, interpolated at any time), `horizons` asks
Horizons through astroquery's query builder and parser with the harvester's own HTTP client,
`settings` is the `[ephemeris]` config section, and `store` keeps what Horizons said in the
catalog per (observer, step) and asks again only when the window grows or the orbit solution
changes. Sources receive a store from the engine; they never import it.
"""
