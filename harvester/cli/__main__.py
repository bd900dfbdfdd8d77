"""`python -m harvester.cli`: the same as the `harvester` command."""

from harvester.cli.main import main

main()
