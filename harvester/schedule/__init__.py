"""Schedules: when each source is due, the `harvester schedule` loop, its settings and heartbeat."""
