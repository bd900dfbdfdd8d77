"""Release watch: expected observations, release policies, statuses, latency and silence."""
