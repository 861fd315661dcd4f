"""What every documentation reader produces: definitions by name, each with its members' texts.

The shape follows QEMU's doc comments (docs/devel/qapi-code-gen.rst,
"Documentation comments"): a definition has a body, member sections (whose
members may come from another type: "The members of X", possibly only "when
TAG is VALUE"), and tagged sections (Returns, Errors, Since, Notes, examples).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass
class MemberDoc:
    """One documented member (argument, event datum, feature or enum value)."""

    name: str
    type: str = ""  # as the manual writes it; '' where it names none
    optional: bool = False
    text: str = ""


@dataclass
class Include:
    """'The members of TARGET [when TAG is VALUE]': members documented elsewhere."""

    target: str
    tag: str = ""
    value: str = ""


@dataclass
class Definition:
    """A command, event or type as documented."""

    name: str
    kind: str  # command, event, object, enum, alternate
    since: str = ""
    text: str = ""
    members: list[MemberDoc] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    features: list[MemberDoc] = field(default_factory=list)
    returns: str = ""
    errors: str = ""
    notes: str = ""
    examples: list[str] = field(default_factory=list)  # each the text of one example block


@dataclass
class Manual:
    """Every definition of one source, and the QEMU version that source documents ('' unknown)."""

    source: str
    version: str = ""
    definitions: dict[str, Definition] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version": self.version,
            "definitions": list(map(asdict, self.definitions.values())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manual:
        """The cached form back; ``KeyError``/``TypeError`` when it is not one."""
        manual = cls(str(data["source"]), str(data["version"]))
        for item in data["definitions"]:
            definition = Definition(
                **{k: v for k, v in item.items() if k not in ("members", "includes", "features")}
            )
            definition.members = [MemberDoc(**m) for m in item["members"]]
            definition.includes = [Include(**i) for i in item["includes"]]
            definition.features = [MemberDoc(**f) for f in item["features"]]
            manual.definitions[definition.name] = definition
        return manual
