"""argparse's parser, built from the options table (``qmpshell.options.GROUPS``).

It reads what the plain reading in ``options`` leaves to it (abbreviations,
``-kq``, bad values), prints ``--help`` and the usage errors, and is where the
man page (``qmpshell.manpage``) and the shell completions' tests read the options.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from qmpshell.options import (
    ADDRESS_HELP,
    DESCRIPTION,
    EPILOG,
    GROUPS,
    PROGRAM,
    Option,
    Options,
    terminal_columns,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    """The command line; also the source of the man page and shell completions."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
    )
    parser.add_argument("address", nargs="*", help=ADDRESS_HELP)
    for title, options in GROUPS:
        group = parser.add_argument_group(title) if title else parser
        for option in options:
            group.add_argument(*option.flags, **_keywords(option))
    return parser


def parse_with_argparse(options: list[str]) -> Options:
    """The options and addresses as argparse reads them (it exits with a usage error when wrong).

    ``parse_intermixed_args`` first formats the whole usage line for its error messages (3 M
    instructions), so a command line the plain parse reads whole (addresses first, as usual)
    is taken from it: the same namespace.  Any other is parsed again, intermixed.
    """
    parser = build_parser()
    args, rest = parser.parse_known_args(options)
    return Options(**vars(args if not rest else parser.parse_intermixed_args(options)))


def _keywords(option: Option) -> dict[str, Any]:
    """``add_argument``'s keywords for ``option`` (only those it sets)."""
    keywords: dict[str, Any] = {"help": option.help}
    if option.action != "store":
        keywords["action"] = option.action
    if option.default is not (False if option.action == "store_true" else None):  # not argparse's own
        keywords["default"] = option.initial
    for name in ("metavar", "choices", "nargs", "const"):
        if getattr(option, name) is not None:
            keywords[name] = getattr(option, name)
    if option.convert is not None:
        keywords["type"] = _argparse_type(option.convert)
    return keywords


def _argparse_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """``convert`` with its ValueError's message shown as argparse's error for the option."""

    def converted(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    converted.__name__ = convert.__name__
    return converted


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own layout at the terminal's width, measured as ``shutil.get_terminal_size`` does.

    argparse builds a formatter for every option it adds, and its default one
    imports shutil (and with it bz2 and lzma) to measure: 1.6 ms of a one-shot.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_columns() - 2)
