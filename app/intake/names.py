"""Names: Drupal machine-name rules, label references like "Image (Media type)", and finding what a name meant."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import islice

from rapidfuzz import fuzz, process

from app.intake.model import SpecKind

ERROR_LITERALS = frozenset({"#N/A", "#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!", "#ERROR!", "#SPILL!"})


@dataclass(frozen=True)
class MachineNameRule:
    """What Drupal accepts as the machine name of one kind: the characters besides a-z and 0-9, and a length."""

    extra: str  # allowed characters besides lowercase letters and digits
    max_length: int
    separator: str  # what a suggestion puts between words

    @cached_property
    def valid(self) -> re.Pattern[str]:
        return re.compile(f"[a-z0-9{re.escape(self.extra)}]*")

    @property
    def allowed(self) -> str:
        names = {"_": "underscores", "-": "hyphens"}
        return "lowercase letters, digits and " + " and ".join(names[ch] for ch in self.extra)


_UNDERSCORES = MachineNameRule("_", 32, "_")
# As Drupal's forms and config entities enforce them: bundles and field storages 32 characters (a field's name
# counts its `field_` prefix), menus take hyphens and no underscores (menu names become CSS classes and paths),
# image styles take both.
MACHINE_NAME_RULES: dict[SpecKind, MachineNameRule] = {
    SpecKind.VIEWS: MachineNameRule("_", 128, "_"),
    SpecKind.VIEW_DISPLAYS: MachineNameRule("_", 64, "_"),
    SpecKind.IMAGE_STYLES: MachineNameRule("_-", 64, "_"),
    SpecKind.RESPONSIVE_IMAGE_STYLES: MachineNameRule("_", 64, "_"),
    SpecKind.ROLES: MachineNameRule("_", 64, "_"),
    SpecKind.MENUS: MachineNameRule("-", 32, "-"),
}


def machine_name_rule(kind: SpecKind) -> MachineNameRule:
    return MACHINE_NAME_RULES.get(kind, _UNDERSCORES)


# Entity type labels as specs write them -> entity type machine name.
ENTITY_TYPES: dict[str, str] = {
    "content type": "node",
    "content": "node",
    "node": "node",
    "paragraph type": "paragraph",
    "paragraph": "paragraph",
    "media type": "media",
    "media": "media",
    "custom block type": "block_content",
    "block type": "block_content",
    "block content type": "block_content",
    "block": "block_content",
    "vocabulary": "taxonomy_term",
    "taxonomy": "taxonomy_term",
    "taxonomy term": "taxonomy_term",
    "user": "user",
    "comment type": "comment",
}
# How a reference names each entity type's bundles: "Image (Media type)".
_ENTITY_TYPE_LABELS: dict[str, str] = {
    "node": "Content type",
    "paragraph": "Paragraph type",
    "media": "Media type",
    "block_content": "Block type",
    "taxonomy_term": "Vocabulary",
    "user": "User",
    "comment": "Comment type",
}
_REFERENCE = re.compile(r"^(?P<label>.*?)\s*\((?P<type>[^()]*)\)\s*$", re.DOTALL)
_SUGGEST_POOL = (
    100  # bigger pools are narrowed to names sharing a rare word, so a suggestion costs the same on any spec
)
_CUTOFF = 60  # similarity (0..100) below which a name is no suggestion
_WORD = re.compile(r"[a-z0-9]+")


def is_error_literal(text: str) -> bool:
    text = text.strip()
    return text[:1] == "#" and text.upper() in ERROR_LITERALS


@lru_cache(maxsize=1024)  # a column repeats a few entity type labels on every row
def entity_type_of(text: str) -> str | None:
    """The entity type machine name for a label like "Content type", or None."""
    return ENTITY_TYPES.get(" ".join(text.lower().split()))


def entity_type_label(entity_type: object) -> str:
    """ "media" -> "Media type", the words a reference writes in brackets; an unknown type as it is."""
    return _ENTITY_TYPE_LABELS.get(str(entity_type), str(entity_type))


def machine_name_problem(name: str, kind: SpecKind) -> str | None:
    """Why a machine name breaks its kind's rule (allowed characters, length), or None."""
    rule = machine_name_rule(kind)
    if rule.valid.fullmatch(name) and len(name) <= rule.max_length:
        return None
    problems = []
    if " " in name:
        problems.append("spaces")
    if any(ch.isupper() for ch in name):
        problems.append("capital letters")
    others = sorted({ch for ch in name.lower() if not ("a" <= ch <= "z" or ch.isdigit() or ch in rule.extra + " ")})
    if others:
        problems.append("the characters " + " ".join(repr(ch) for ch in others))
    if len(name) > rule.max_length:
        problems.append(f"{len(name)} characters (at most {rule.max_length})")
    return "has " + ", ".join(problems) if problems else None


def to_machine_name(text: str, kind: SpecKind = SpecKind.BUNDLES) -> str:
    """A valid machine name derived from a label or a broken machine name ("Editorial Access" -> "editorial_access",
    a menu's "Sidebar Menu" -> "sidebar-menu")."""
    rule = machine_name_rule(kind)
    name = re.sub(f"[^a-z0-9{re.escape(rule.extra)}]+", rule.separator, text.lower())
    return name.strip("_-")[: rule.max_length].strip("_-")


def split_reference(text: str) -> tuple[str, str | None]:
    """ "Academic Program (Content type)" -> ("Academic Program", "node"); no known type in brackets -> (text, None)."""
    match = _REFERENCE.match(text) if ")" in text else None  # the pattern needs a closing bracket
    if match:
        entity_type = entity_type_of(match["type"])
        if entity_type:
            return match["label"].strip(), entity_type
    return text.strip(), None


def split_list(text: str) -> list[str]:
    """Split "A (x), B, C" on commas, semicolons and newlines outside brackets; trimmed, empty parts dropped."""
    if "," not in text and ";" not in text and "\n" not in text:  # most cells name one thing: nothing to split
        return [text.strip()] if text.strip() else []
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if depth == 0 and ch in ",;\n":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


@lru_cache(maxsize=4096)  # a reference is looked up in every scope, and many rows name the same few bundles
def _folded_name(text: str) -> str:
    """A name as the index compares it: inner whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


class NameIndex:
    """Items of one kind findable by label or machine name within a scope, case-insensitively.

    A scope is whatever qualifies the name (an entity type, a workflow); use None for unscoped kinds.
    """

    def __init__(self) -> None:
        self._labels: dict[Hashable, dict[str, tuple[Hashable, str]]] = defaultdict(dict)
        self._machine: dict[Hashable, dict[str, Hashable]] = defaultdict(dict)
        self._display: dict[Hashable, list[str]] = defaultdict(list)
        self._words: dict[Hashable, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self._colliding: dict[Hashable, dict[str, list[Hashable]]] = defaultdict(dict)
        self._indexed: dict[Hashable, int] = defaultdict(int)  # labels of a scope already in `_words`

    def add(self, scope: Hashable, label: str, machine_name: str, key: Hashable) -> None:
        if label:
            folded = _folded_name(label)
            first = self._labels[scope].setdefault(folded, (key, label))[0]
            if first != key:
                keys = self._colliding[scope].setdefault(folded, [first])
                if key not in keys:
                    keys.append(key)
            self._display[scope].append(label)
        if machine_name:
            self._machine[scope].setdefault(machine_name.casefold(), key)

    def find(self, scope: Hashable, text: str) -> tuple[Hashable | None, str | None]:
        """(key, canonical label when found by label), or (None, None). Labels win over machine names."""
        folded = _folded_name(text)
        if folded in self._labels[scope]:
            return self._labels[scope][folded]
        key = self._machine[scope].get(folded)
        return key, None

    def sharing_label(self, scope: Hashable, text: str) -> list[Hashable]:
        """Every key whose item has this label, when more than one does (two views both called "Events")."""
        colliding = self._colliding.get(scope)
        return list(colliding.get(_folded_name(text), ())) if colliding else []

    def scopes(self) -> Iterable[Hashable]:
        return self._display.keys()

    def suggest(self, scopes: Iterable[Hashable], text: str, n: int = 3) -> list[str]:
        """The closest known labels in the given scopes."""
        scopes = [s for s in scopes if s in self._display]
        if sum(len(self._display[s]) for s in scopes) <= _SUGGEST_POOL:
            pool = [label for scope in scopes for label in self._display[scope]]
        else:
            pool = self._narrowed(scopes, text)
        return closest(text, list(dict.fromkeys(pool)), n)

    def _narrowed(self, scopes: list[Hashable], text: str) -> list[str]:
        # Keep the cost per suggestion bounded on big specs: candidates sharing the query's rarest words first.
        # The word index is built on the first suggestion, not on every add: most specs need few suggestions.
        for scope in scopes:
            for label in self._display[scope][self._indexed[scope] :]:
                for word in set(_WORD.findall(label.lower())):
                    self._words[scope][word].append(label)
            self._indexed[scope] = len(self._display[scope])
        words = sorted(
            set(_WORD.findall(text.lower())), key=lambda w: sum(len(self._words[s].get(w, ())) for s in scopes)
        )
        pool: list[str] = []
        for word in words:
            for scope in scopes:
                # Take only what still fits: a common word's list grows with the spec, and copying it whole made
                # each suggestion cost O(spec size).
                pool.extend(islice(self._words[scope].get(word, ()), _SUGGEST_POOL - len(pool)))
            if len(pool) >= _SUGGEST_POOL:
                break
        return pool


def closest(text: str, pool: list[str], n: int = 3) -> list[str]:
    """The closest labels by edit similarity (rapidfuzz, case-insensitive); failing that, labels containing the text
    or contained in it."""
    by_folded = {p.casefold(): p for p in pool}
    folded = text.casefold()
    found = process.extract(folded, list(by_folded), scorer=fuzz.ratio, limit=n, score_cutoff=_CUTOFF)
    matches = [match for match, _, _ in found]
    if not matches:
        # A label contained in the other ("Program" -> "Academic Program") is a good guess edit distance misses.
        matches = [p for p in by_folded if folded and (folded in p or p in folded)][:n]
    return [by_folded[m] for m in matches]
