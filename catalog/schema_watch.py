"""Migration 3 of the catalog: the tables of the watch feature. Never edit it once released:
add a new migration instead."""

VERSION = 3
DESCRIPTION = "watch"
SQL = ""
