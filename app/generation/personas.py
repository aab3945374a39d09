"""Who a ticket's user story is for, chosen from the data: access notes, role names, the kind, a view's displays.

Order of evidence: a spec role named in the notes ("Market editors and site admins only": the role that does the
daily work), then a note that restricts access ("Site admins can add/edit/delete only", "logged in users"), then
what the kind and, for views, the displays imply (admin paths, entity reference selection lists), then the kind's
usual audience.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from app.intake.model import Role, SpecItem, SpecModel, View, ViewDisplay
from app.llm import default_persona

_ADMIN_NOTE = re.compile(r"\b(site )?admin(istrator)?s?\b[^.]*\bonly\b|\bonly (site )?admin", re.IGNORECASE)
_LOGGED_IN = re.compile(r"\blogged[ -]in\b|\bauthenticated users?\b", re.IGNORECASE)


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _role_pattern(label: str) -> str:
    """A role label as notes write it: a long word by its first six letters with any ending, a short one as it is or
    plural ("Market editors" names "Marketing Editor"; "Editorial Access" names no "Editor")."""
    words = [re.escape(w[:6]) + r"\w*" if len(w) > 6 else re.escape(w) + "s?" for w in label.lower().split()]
    return r"\b" + r"\s+".join(words) + r"\b"


def _role_named(text: str, roles: Sequence[Role]) -> str | None:
    """The spec role whose label the text names first; generic roles (administrator, anonymous) and admin roles
    are not evidence (an admin-only note says that already)."""
    found = [
        (match.start(), role.label)
        for role in roles
        if role.machine_name not in ("administrator", "anonymous", "authenticated")
        and "admin" not in role.label.lower()
        and role.label.strip()
        and (match := re.search(_role_pattern(role.label), text, re.IGNORECASE))
    ]
    return _article(min(found)[1].lower()) if found else None


_ADMIN_WORDS = re.compile(r"/admin\b|\badmin(istrat\w*)?\b|\breporting\b", re.IGNORECASE)


def _display_audience(display: ViewDisplay) -> str:
    """Who one display is for: admin paths and admin or reporting pages serve administrators, entity reference
    lists serve editors (they fill reference fields), REST exports and feeds serve integrators, the rest visitors."""
    plugin = display.display_plugin.strip().lower()
    text = f"{display.label} {display.machine_name} {display.cells.get('Path', '')} {display.notes}"
    if _ADMIN_WORDS.search(text):
        return "a site administrator"
    if plugin in ("entity reference", "entity_reference"):
        return "a content editor"
    if plugin in ("rest export", "rest_export", "feed", "data export"):
        return "a developer integrating with the site"
    return "a site visitor"


def _view_persona(items: Iterable[SpecItem]) -> str | None:
    """Administrators when the view's own name or path says admin; otherwise the audience most of its displays
    serve (a tie goes to the first display's)."""
    items = list(items)
    views = [i for i in items if isinstance(i, View)]
    if _ADMIN_WORDS.search(" ".join(f"{i.label} {i.machine_name} {i.cells.get('Path', '')}" for i in views)):
        return "a site administrator"
    audiences = [_display_audience(d) for d in items if isinstance(d, ViewDisplay)]
    return max(dict.fromkeys(audiences), key=audiences.count) if audiences else None


def persona_for(kind: str, items: Sequence[SpecItem], notes: Iterable[str], model: SpecModel) -> str:
    """The person the user story speaks for, from the ticket's rows and its subject's (and a view's displays') notes."""
    if kind in ("roles", "user role", "removal"):
        return default_persona(kind)
    text = " ".join([*notes, *(i.notes for i in items if isinstance(i, ViewDisplay))])
    role = _role_named(text, model.roles)
    if _ADMIN_NOTE.search(text):  # "Market editors and site admins only": the editors do the daily work
        return role or "a site administrator"
    if role:
        return role
    if _LOGGED_IN.search(text):
        return "a logged-in user"
    if kind == "view" and (persona := _view_persona(items)):
        return persona
    return default_persona(kind)
