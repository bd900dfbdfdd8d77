"""The catalog in a browser: the Datasette app, its table metadata and canned queries, the Atom renderer."""
