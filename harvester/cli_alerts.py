"""The `harvester` commands of the alerts feature (registered on the group in harvester.cli)."""

from __future__ import annotations
