"""The offline writer: deterministic templates that need no network, no key and cost nothing.

It is the default provider and the fallback for any ticket whose model call fails, so its text must always pass
`validation.check_prose`: the templates contain no machine names, and notes are quoted as given. The criteria the
rows imply are the draft's own (app/generation/criteria.py); this writer adds the story and the notes' sentences.
"""

from __future__ import annotations

import re

from app.llm.base import TicketBrief, TicketProse, Usage
from app.llm.validation import (
    MAX_CRITERIA,
    MAX_CRITERION_CHARS,
    MAX_STORY_CHARS,
    known_machine_names,
    machine_names_in,
)

# What each kind of work gives the person the story is for; the person comes from the data (brief.persona).
_BENEFITS: dict[str, str] = {
    "content type": "{name} content can be published with consistent, structured information",
    "paragraph type": "pages can be composed from a reusable {name} component",
    "block type": "reusable {name} blocks can be placed wherever the layout needs them",
    "media type": "{name} media can be uploaded, described and reused across the site",
    "vocabulary": "content can be tagged and filtered consistently with {name} terms",
    "vocabularies": "content can be tagged and filtered consistently",
    "view": "the content it lists can be found and browsed",
    "workflow": "content is reviewed at the right stages before it is published",
    "responsive image style": "images load at a size that suits the screen without slowing the page down",
    "image styles": "every image on the site is derived at a consistent, predictable size",
    "view modes": "content can be displayed consistently in each context that needs it",
    "roles": "each person can do exactly what their job needs and nothing more",
    "removal": "the site carries no unused configuration",
}
_GENERIC_BENEFIT = "the site matches its specification"

# Who each kind of work usually serves, when the data names no one better (see app/generation/personas.py).
_PERSONAS: dict[str, str] = {
    "content type": "a content editor",
    "paragraph type": "a content editor",
    "vocabulary": "a content editor",
    "vocabularies": "a content editor",
    "block type": "a site builder",
    "media type": "a site builder",
    "view": "a site visitor",
    "workflow": "a content manager",
    "responsive image style": "a site visitor",
    "image styles": "a site builder",
    "view modes": "a site builder",
    "roles": "a site administrator",
    "menus": "a site builder",
    "removal": "a site maintainer",
}

# Bundle kinds arrive with entity-specific wording ("taxonomy vocabulary", "custom block type").
_ALIASES = {
    "taxonomy vocabulary": "vocabulary",
    "custom block type": "block type",
    "role": "roles",
    "user role": "roles",
    "user roles": "roles",
    "image style": "image styles",
    "view mode": "view modes",
    "removals": "removal",
}

_WANT = {
    "build": "the {subject} set up on the site",
    "change": "the existing {subject} changed to match the revised specification",
    "remove": "the {subject} removed from the site",
    "hold": "the {subject} settled and then set up on the site",
}

# Checks the action itself calls for, beyond what the rows say.
_ACTION_CHECKS = {
    "build": (),
    "change": ("Content created before the change keeps all its values after the update.",),
    "remove": ("Content stored in the removed items was backed up or confirmed disposable before removal.",),
    "hold": ("The open questions are answered on this ticket before work starts.",),
}

_NOTE_LEAD = "Done as the spec notes: "
_DOUBT_LEAD = "Settled with the spec author before work starts: "
# A note that is a doubt, not a requirement: "Potentially scheduled (need confirmation)", "May not do this".
_DOUBT = re.compile(
    r"\b(potentially|possibly|maybe|perhaps|likely|ideally|tbd|tbc|to be (confirmed|decided)|need(s)? confirmation|"
    r"may not|might)\b|\?\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


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
    """A user story for the brief's persona and a criterion per sentence of the notes the data criteria lack."""
    kind = _ALIASES.get(brief.kind.lower(), brief.kind.lower())
    # A removal ticket is removal work whatever status the rows had, unless it is on hold.
    action = "remove" if kind == "removal" and brief.action != "hold" else brief.action
    subject = _one_line(brief.subject)
    values = {"subject": subject, "name": _without_kind(subject, brief.kind)}
    benefit = (_BENEFITS["removal"] if action == "remove" else _BENEFITS.get(kind, _GENERIC_BENEFIT)).format(**values)
    if action != "remove" and kind in _BUNDLE_KINDS and (purpose := _purpose(brief, values["name"])):
        benefit = f"I can {purpose}"
    persona = _one_line(brief.persona) or default_persona(kind)
    want = _WANT[action].format(**values)
    if action == "change" and kind in _BUNDLE_KINDS and (added := _listed(brief, "Fields")):
        want = f"the existing {subject} updated with {added}"
    story = _clip(f"As {persona}, I want {want}, so that {benefit}.", MAX_STORY_CHARS)
    # Removing configuration that holds no content (view modes, image styles, views) needs no backup.
    action_checks = _ACTION_CHECKS[action] if action != "remove" or _holds_content(subject) else ()
    checks = [*action_checks, *(_note_check(line) for line in uncovered_notes(brief))]
    return TicketProse(story, tuple(_clip(item, MAX_CRITERION_CHARS) for item in checks[:MAX_CRITERIA]))


# A bundle's description says what editors do with it; a view's says what it lists ("Lists of facts.").
_BUNDLE_KINDS = frozenset({"content type", "paragraph type", "block type", "media type", "vocabulary"})
# Verbs a spec's description starts with when it says what the thing is for ("Add program pages for majors").
_PURPOSE_VERBS = frozenset(
    {
        "add",
        "create",
        "define",
        "display",
        "highlight",
        "list",
        "place",
        "provide",
        "show",
        "use",
        "manage",
        "embed",
        "collect",
        "link",
    }
)


def _purpose(brief: TicketBrief, name: str) -> str:
    """What the subject is for, in the spec's own words, when its description says it as an action: "Add program
    pages for majors and minors." -> "add program pages for majors and minors"; "Use to add college pages." -> "add
    college pages"; "Creates a linkable image" -> "create a linkable image". "" for a description that is a noun
    phrase ("Lists of facts.") or when the facts carry none."""
    prefix = f"{name}: "
    fact = next((f for f in brief.facts[:1] if f.startswith(prefix)), "")
    words = _one_line(fact[len(prefix) :]).rstrip(".!").split(" ")
    if len(words) > 1 and words[0].lower() == "use" and words[1].lower() == "to":
        words = words[2:]
    if not words or not words[0]:
        return ""
    verb = words[0].lower()
    if verb not in _PURPOSE_VERBS and verb.endswith("s") and verb[:-1] in _PURPOSE_VERBS:
        verb = verb[:-1]  # "Creates", "Displays": said of the thing, meant for the person
    if verb not in _PURPOSE_VERBS or len(words) < 2 or words[1].lower() == "of":
        return ""
    purpose = " ".join([verb, *words[1:]])
    # The fallback text must pass the checks whatever the spec wrote: no machine name the ticket lacks.
    return "" if {n.lower() for n in machine_names_in(purpose)} - known_machine_names(brief) else purpose


_CONTENT_HOLDERS = re.compile(r"\b(fields?|content types?|paragraph types?|block types?|media types?|vocabular\w*)\b")


def _holds_content(subject: str) -> bool:
    """Whether removing the subject ("2 content types", "4 fields") deletes content, which must be saved first."""
    return _CONTENT_HOLDERS.search(subject.lower()) is not None


def _listed(brief: TicketBrief, title: str) -> str:
    """ "the field Widget Title" / "the fields Tags and Caption": the labels a fact lists under `title`, or ""."""
    fact = next((f for f in brief.facts if f.startswith(f"{title}: ")), "")
    labels = [label for label in fact[len(title) + 2 :].split(", ") if label]
    if not labels or " more" in labels[-1]:
        return ""
    noun = title.lower() if len(labels) > 1 else title.lower().rstrip("s")
    named = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    return _one_line(f"the {noun} {named}")


def _note_check(sentence: str) -> str:
    """A criterion for one sentence of the notes: done as it says, or, for a doubt, settled before work starts."""
    return (_DOUBT_LEAD if _DOUBT.search(sentence) else _NOTE_LEAD) + _sentence(sentence)


def default_persona(kind: str) -> str:
    """The usual audience of a kind of work: "a content editor" for a content type, "a site builder" otherwise."""
    kind = kind.lower()
    return _PERSONAS.get(_ALIASES.get(kind, kind), "a site builder")


def uncovered_notes(brief: TicketBrief) -> list[str]:
    """The sentences of the brief's notes that no data criterion already quotes, each on one line."""
    covered = " ".join(brief.criteria)
    sentences: list[str] = []
    for note in _distinct_lines(brief.notes):
        if note in covered or note.split(": ", 1)[-1] in covered:
            continue
        sentences.extend(part for part in _SENTENCE_END.split(note) if part.strip())
    return sentences


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
