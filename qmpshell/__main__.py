"""Allow ``python -m qmpshell``."""

from qmpshell.cli import entry

entry()
