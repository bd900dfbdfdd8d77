"""The command line: a thin click layer over the library. `group` holds the click group and the
shared options, one module per command family holds its commands, and `main` registers them."""
