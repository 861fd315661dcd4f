"""Allow ``python -m qmpshell``."""

from qmpshell.start import main

main()
