"""The `harvester` commands of the target feature (registered on the group in harvester.cli)."""

from __future__ import annotations
