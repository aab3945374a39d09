"""The offline writer: deterministic templates that need no network, no key and cost nothing.

It is the default provider and the fallback for any ticket whose model call fails, so its text must always pass
`validation.check_prose`: the templates contain no machine names, and facts are quoted as given.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.llm.base import TicketBrief, TicketProse, Usage
from app.llm.validation import MAX_CRITERIA, MAX_CRITERION_CHARS, MAX_STORY_CHARS


@dataclass(frozen=True)
class _KindText:
    role: str
    benefit: str
    checks: tuple[str, ...]


_BUNDLE_CHECKS = (
    (
        "Every field in the field table exists with the listed label, machine name, type, required setting and "
        "number of values."
    ),
    "An item of the {subject} can be created, edited and viewed with test values in every field.",
)

_KINDS: dict[str, _KindText] = {
    "content type": _KindText(
        "a content editor", "I can publish {name} content with consistent, structured information", _BUNDLE_CHECKS
    ),
    "paragraph type": _KindText(
        "a content editor", "I can compose pages from a reusable {name} component", _BUNDLE_CHECKS
    ),
    "block type": _KindText(
        "a content editor", "I can place reusable {name} blocks wherever the layout needs them", _BUNDLE_CHECKS
    ),
    "media type": _KindText(
        "a content editor", "I can upload, describe and reuse {name} media across the site", _BUNDLE_CHECKS
    ),
    "vocabulary": _KindText(
        "a content editor", "content can be tagged and filtered consistently with {name} terms", _BUNDLE_CHECKS
    ),
    "view": _KindText(
        "a site visitor",
        "I can find and browse the content it lists",
        (
            "Each display in the display table exists with the path, format, filters and sorting listed for it.",
            "With test content in place, each display lists only the items its filters select, in the listed order.",
        ),
    ),
    "workflow": _KindText(
        "a content manager",
        "content is reviewed at the right stages before it is published",
        (
            "Every state and transition in the tables exists with the listed label.",
            "Each transition is offered only to the roles listed for it, and refused to everyone else.",
            "Content of each moderated type starts in the listed default state and follows only listed transitions.",
        ),
    ),
    "responsive image style": _KindText(
        "a site visitor",
        "images load at a size that suits my screen without slowing the page down",
        (
            "The breakpoint mappings and the fallback image style match the table.",
            "A page using it serves a smaller image on a narrow screen than on a wide one.",
        ),
    ),
    "image styles": _KindText(
        "a site builder",
        "every image on the site is derived at a consistent, predictable size",
        (
            "Each listed image style exists with the listed effects, in order.",
            "A test image rendered through each style has the listed dimensions.",
        ),
    ),
    "view modes": _KindText(
        "a site builder",
        "content can be displayed consistently in each context that needs it",
        (
            "Each listed view mode exists and is enabled on the bundles listed for it.",
            "Each view mode shows the fields the table lists for it, in order.",
        ),
    ),
    "roles": _KindText(
        "a site administrator",
        "each person can do exactly what their job needs and nothing more",
        (
            "Each role in the table exists with the listed label and machine name.",
            "Each role has the permissions the notes imply, and no others.",
            "A test account with each role can do its intended tasks and is refused the rest.",
        ),
    ),
    "removal": _KindText(
        "a site maintainer",
        "the site carries no unused configuration",
        (
            "Each listed item is gone, and no view, display or other configuration still refers to it.",
            "Content stored in the removed items was backed up or confirmed disposable before removal.",
        ),
    ),
}

_GENERIC = _KindText(
    "a site builder",
    "the site matches its specification",
    (
        "The {subject} matches every row of the configuration tables.",
        "The {subject} works end to end with test content.",
    ),
)

# Bundle kinds arrive with entity-specific wording ("taxonomy vocabulary", "custom block type").
_ALIASES = {
    "taxonomy vocabulary": "vocabulary",
    "custom block type": "block type",
    "role": "roles",
    "user roles": "roles",
    "image style": "image styles",
    "view mode": "view modes",
    "removals": "removal",
}

_WANT = {
    "build": "the {subject} built as specified",
    "change": "the existing {subject} updated to match the revised specification",
    "remove": "the {subject} removed from the site",
    "hold": "the {subject} ready to build once its open questions are settled",
}

# How a fact from the data becomes a checklist item for each kind of work.
_FACT_LEAD = {
    "build": "Matches the spec: ",
    "change": "Updated per the spec: ",
    "remove": "Removed: ",
    "hold": "Confirmed before building: ",
}

_CLOSING = {
    "build": ("The configuration is exported to the codebase and imports cleanly on a fresh install.",),
    "change": (
        "Existing content keeps all its values after the update.",
        "The changed configuration is exported to the codebase and imports cleanly.",
    ),
    "remove": ("The configuration export no longer contains the removed items and imports cleanly.",),
    "hold": (
        "The open questions are answered on this ticket before work starts.",
        "The configuration is exported to the codebase and imports cleanly on a fresh install.",
    ),
}

_NOTES_CHECK = "Each note from the spec is addressed or answered on this ticket."


class OfflineProvider:
    """A provider that writes from templates: same brief, same text, no network and no cost."""

    name = "offline"
    model = "offline"

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        return compose(brief), Usage()

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def compose(brief: TicketBrief) -> TicketProse:
    """Write a user story and success criteria from the brief's kind, action and facts."""
    kind = _ALIASES.get(brief.kind.lower(), brief.kind.lower())
    # A removal ticket is removal work whatever status the rows had, unless it is on hold.
    action = "remove" if kind == "removal" and brief.action != "hold" else brief.action
    # Removing something serves the maintainer whatever it is, so removal wording wins over the kind's.
    text = _KINDS["removal"] if action == "remove" else _KINDS.get(kind, _GENERIC)
    subject = _one_line(brief.subject)
    values = {"subject": subject, "name": _without_kind(subject, brief.kind)}
    role, want, benefit = text.role, _WANT[action].format(**values), text.benefit.format(**values)
    story = _clip(f"As {role}, I want {want}, so that {benefit}.", MAX_STORY_CHARS)

    checks = [check.format(**values) for check in text.checks]
    closing = [*_CLOSING[action], *([_NOTES_CHECK] if brief.notes else [])]
    facts = [_FACT_LEAD[action] + _sentence(fact) for fact in _distinct_lines(brief.facts)]
    facts = facts[: MAX_CRITERIA - len(checks) - len(closing)]
    return TicketProse(story, tuple(_clip(item, MAX_CRITERION_CHARS) for item in (*checks, *facts, *closing)))


def _without_kind(subject: str, kind: str) -> str:
    """The subject's name alone: "Academic Program content type" -> "Academic Program"."""
    suffix = " " + kind.lower()
    return subject[: -len(suffix)] if subject.lower().endswith(suffix) else subject


def _one_line(text: str) -> str:
    """Collapse whitespace and drop table pipes, which the checks would reject in the fallback text."""
    return " ".join(text.replace("|", "/").split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _distinct_lines(lines: tuple[str, ...]) -> list[str]:
    distinct: dict[str, str] = {}
    for line in map(_one_line, lines):
        if line:
            distinct.setdefault(line.casefold(), line)
    return list(distinct.values())


def _clip(text: str, limit: int) -> str:
    """Shorten at a word boundary with an ellipsis; only pathological subjects or facts are that long."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
