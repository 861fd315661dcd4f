"""Outcomes made into the output pane's lines on the worker thread, not the UI's (C7).

A reply of 200,000 rows took seconds to lay out; done where the command ran,
the screen keeps answering keys meanwhile, and the event loop only appends
what is ready.  ``public`` is what the transcript and ``/save`` get instead of
the lines on the screen: ``<redacted>`` for a reply that is a secret, the
whole reply as JSON for a view that showed only its first rows.
"""

from __future__ import annotations

from typing import overload  # at run time too: the interactive front-end has typing loaded anyway

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.errors import QmpShellError
from qmpshell.language.redact import REDACTED, reveals_secret
from qmpshell.outcomes import Exit, FrontEndCommand, ModeChanged, Outcome, Reply
from qmpshell.output.render import json_text
from qmpshell.records import NamedTuple
from qmpshell.repl import styled
from qmpshell.repl.panes import Public


class Rendered(NamedTuple):
    outcome: Outcome
    fragments: StyleAndTextTuples
    public: Public | None = None
    # what it was laid out for (``relayout`` lays it out again at another width)
    presentation: styled.Presentation | None = None


Result = Outcome | QmpShellError | None


@overload
def render(
    result: Outcome | QmpShellError, presentation: styled.Presentation
) -> Outcome | QmpShellError | Rendered: ...


@overload
def render(result: None, presentation: styled.Presentation) -> None: ...


def render(
    result: Outcome | QmpShellError | None, presentation: styled.Presentation
) -> Outcome | QmpShellError | Rendered | None:
    """``result`` with its lines, when it is shown as lines (a reply, HMP output, a notice)."""
    if result is None or isinstance(result, (QmpShellError, Exit, ModeChanged, FrontEndCommand)):
        return result
    sent = getattr(result, "sent", None)
    if isinstance(sent, dict) and reveals_secret(sent):
        return Rendered(result, styled.outcome(result, presentation), REDACTED, presentation)
    public: Public | None = None
    if isinstance(result, Reply) and presentation.format == "auto" and not result.as_json:
        from qmpshell.output.views import bounded  # the first reply: not before the first prompt

        if bounded(result.response)[1]:
            response = result.response
            public = lambda: json_text(response, pretty=True)  # noqa: E731 - /save reply: all of it
    return Rendered(result, styled.outcome(result, presentation), public, presentation)
