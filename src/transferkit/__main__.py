"""``python -m transferkit`` runs the command line."""

from .cli import main

main()
