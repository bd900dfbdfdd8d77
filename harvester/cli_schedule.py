"""The `harvester` commands of the schedule feature (registered on the group in harvester.cli)."""

from __future__ import annotations
