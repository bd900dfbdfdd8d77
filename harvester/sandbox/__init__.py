"""A local stand-in for the archives, for tests, demos and benchmarks.

Speaks the real protocols (MAST Portal API `Mast.Caom.Filtered`, PDS Search API
`/products` with the `q` language and search-after paging, ESA PSA and ObsCore TAP sync
with an ADQL subset and its geometry (CONTAINS, INTERSECTS), MPC get-obs and query-identifier,
JPL SBDB and Horizons, MAST by position, CATCH jobs, the CNSA science endpoints) from a
scenario, with a movable clock and fault injection. Standard library only, and deliberately
shares no code with the harvester it tests.

    from harvester.sandbox import Sandbox, default_scenario
    with Sandbox(default_scenario()) as sb:
        sb.base_urls  # {"mast": ".../mast", "pds": ".../pds/api/search/1"}
"""

from .faults import KINDS as FAULT_KINDS
from .faults import FaultQueue
from .generate import generate_scenario
from .scenario import default_scenario, empty_scenario, load_scenario
from .server import MAST_PREFIX, PDS_PREFIX, RequestRecord, Sandbox

__all__ = [
    "FAULT_KINDS",
    "MAST_PREFIX",
    "PDS_PREFIX",
    "FaultQueue",
    "RequestRecord",
    "Sandbox",
    "default_scenario",
    "empty_scenario",
    "generate_scenario",
    "load_scenario",
]
