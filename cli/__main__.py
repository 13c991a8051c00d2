"""`python -m cli`: the same as the `nam-feeds` console script."""

from cli._main import main

main()
