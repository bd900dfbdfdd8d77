"""Migration 2 of the catalog: the tables of the aliases feature. Never edit it once released:
add a new migration instead."""

VERSION = 2
DESCRIPTION = "aliases"
SQL = ""
