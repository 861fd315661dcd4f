"""Allow ``python -m qmpshell``."""

import sys

from qmpshell.cli import main

sys.exit(main())
