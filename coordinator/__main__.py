"""`python -m coordinator …`: the same as the `coordinator` command."""
from .cli import main

main()
