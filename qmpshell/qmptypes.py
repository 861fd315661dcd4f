"""The one name for a QMP message: a JSON object as Python's json module gives it.

Every layer passes messages (commands, replies, events, the greeting), so the
alias lives in the base layer; ``qmpshell.protocol.messages`` reads their
contents once, at the protocol boundary.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias


Message: TypeAlias = "dict[str, Any]"
