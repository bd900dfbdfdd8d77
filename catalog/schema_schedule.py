"""Migration 5 of the catalog: the tables of the schedule feature. Never edit it once released:
add a new migration instead."""

VERSION = 5
DESCRIPTION = "schedule"
SQL = ""
