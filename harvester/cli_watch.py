"""The `harvester` commands of the watch feature (registered on the group in harvester.cli)."""

from __future__ import annotations
