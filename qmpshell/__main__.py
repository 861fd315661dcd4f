"""Allow ``python -m qmpshell``."""

from qmpshell.program import main

main()
