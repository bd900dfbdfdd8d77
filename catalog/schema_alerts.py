"""Migration 4 of the catalog: the tables of the alerts feature. Never edit it once released:
add a new migration instead."""

VERSION = 4
DESCRIPTION = "alerts"
SQL = ""
