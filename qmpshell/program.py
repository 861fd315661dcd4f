"""The ``qmpshell`` command's entry point (and ``python -m qmpshell``'s): start-up without
the garbage collector.

Loading the program makes some 12,000 objects the collector tracks (functions,
classes, their dictionaries) that all live until the process ends, so its passes
during the imports look at them and find nothing: 4 M of the 122 M instructions a
one-shot ran, 6 M of a line with arguments.  The collector is off while ``cli`` loads; what loading made is
then frozen (``gc.freeze``: left out of every later pass) and collection resumes,
so a long script or session collects its garbage as before.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Load the program with the collector off, freeze what that made, then run it."""
    gc.disable()
    try:
        from qmpshell.cli import entry
    finally:
        gc.freeze()
        gc.enable()
    entry()
