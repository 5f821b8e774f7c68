"""`python -m cli`: the appstore-archive command."""

from cli.main import main

main()
