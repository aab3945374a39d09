"""Recognition: which kind of spec file is each file? Decided for the whole upload set at once.

Every file is scored against every kind from its headers (synonyms weighted by how few kinds share them) and its
sample values (entity type labels in a Type column, dimensions in image style names, ...); the file or tab name only
breaks ties. Files are then assigned to kinds so that the total score is highest, each kind taken once, except that
files with the same headers and the same best kind are two halves of one tab and share it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import networkx as nx

from app.intake.columns import COMMON, FILE_HINTS, kind_specific_columns, map_headers, normalise_header
from app.intake.model import SpecKind
from app.intake.names import entity_type_of
from app.intake.vocabulary import base_table_id, display_plugin_id, field_type_id, folded, parse_enabled, widget_id

RECOGNISED = 0.5  # a kind scoring below this is not a candidate for the file
_CANDIDATE = 0.3  # kinds shown as candidates
_CLOSE = 0.08  # a runner-up this close to the chosen kind makes the choice ambiguous
_NAME_BONUS = 0.08  # the file or tab name: enough to break a tie, never enough to beat the headers
_VALUE_WEIGHT = 0.12  # sample values that look like a kind's raise its score by at most this much
_UNKNOWN_HEADER = 0.5  # weight of a header no kind knows, against every kind
_COMMON_SYNONYMS = frozenset(s for column in COMMON for s in column.synonyms)


@dataclass(frozen=True)
class Recognition:
    """The decided kind (None if unrecognised), a confidence in 0..1, candidates best first, and the basis.

    `runner_up` is the best other kind for the file, so a director can see what else it could be.
    """

    kind: SpecKind | None
    confidence: float
    candidates: tuple[tuple[SpecKind, float], ...]
    basis: str  # "override", "headers", "headers and file name", "file name", "none"
    header_found: bool = True
    runner_up: SpecKind | None = None
    shares_with: str = ""  # the other half's file name, when two files are halves of one tab

    @property
    def ambiguous(self) -> bool:
        close = [k for k, score in self.candidates if k != self.kind and score >= self.confidence - _CLOSE]
        return self.basis == "headers" and bool(close)


@dataclass(frozen=True)
class Candidate:
    """One file to recognise: its name, header row and the first records' cells."""

    name: str
    header: tuple[str, ...]
    sample: tuple[tuple[str, ...], ...] = ()
    override: SpecKind | None = None


def file_hint(name: str) -> SpecKind | None:
    """The kind the file or tab name suggests, if any ("UWEC_CustomViewsDisplays.csv" -> view displays)."""
    stem = re.sub(r"[^a-z]", "", PurePath(name).stem.lower())
    return next((kind for pattern, kind in FILE_HINTS if re.search(pattern, stem)), None)


@lru_cache(maxsize=1024)  # bounded: a header cell holds anything
def _kinds_knowing(header: str) -> int:
    return sum(1 for kind in SpecKind if any(header in c.synonyms for c in kind_specific_columns(kind)))


def header_score(kind: SpecKind, headers: frozenset[str]) -> float:
    """How well normalised headers fit a kind: the share of the file's headers it explains (a header many kinds
    share counts little), its key columns present, and how much of the kind the file covers."""
    columns = kind_specific_columns(kind)
    known = {s for c in columns for s in c.synonyms}
    informative = [h for h in headers if h and h not in _COMMON_SYNONYMS]
    weights = {h: 1 / n if (n := _kinds_knowing(h)) else _UNKNOWN_HEADER for h in informative}
    total = sum(weights.values())
    precision = sum(w for h, w in weights.items() if h in known) / total if total else 0.0
    matched = [c for c in columns if any(s in headers for s in c.synonyms)]
    coverage = sum(c.weight for c in matched) / sum(c.weight for c in columns)
    score = 0.6 * precision + 0.1 * coverage + 0.3
    if any(c.key and c not in matched for c in columns):
        score *= 0.6
    return score


def _share(values: list[str], test: Callable[[str], bool]) -> float | None:
    filled = [v for v in values if v.strip()]
    return sum(1 for v in filled if test(v)) / len(filled) if filled else None


_DIMENSIONS = re.compile(r"\d")
_ROLE_WORDS = re.compile(r"admin|editor|author|anonymous|authenticated|manager|user|member|reviewer|publisher")
_MENU_NAMES = frozenset({"main", "footer", "admin", "account", "tools"})


def _value_tests(kind: SpecKind) -> dict[str, Callable[[str], bool]]:
    """Per column role, what a value of this kind looks like."""
    tests: dict[SpecKind, dict[str, Callable[[str], bool]]] = {
        SpecKind.BUNDLES: {"entity_type": lambda v: entity_type_of(v) is not None},
        SpecKind.VIEW_MODES: {"entity_type": lambda v: entity_type_of(v) is not None},
        SpecKind.FIELDS: {
            "field_type": lambda v: field_type_id(v) is not None,
            "widget": lambda v: widget_id(v) is not None,
        },
        SpecKind.VIEWS: {
            "base_table": lambda v: base_table_id(v) is not None,
            "enabled": lambda v: parse_enabled(v)[0] is not None,
        },
        SpecKind.VIEW_DISPLAYS: {"display_plugin": lambda v: display_plugin_id(v) is not None},
        SpecKind.WORKFLOWS: {"workflow_type": lambda v: "moderation" in folded(v) or "workflow" in folded(v)},
        SpecKind.IMAGE_STYLES: {"label": lambda v: bool(_DIMENSIONS.search(v))},
        SpecKind.ROLES: {"machine_name": lambda v: bool(_ROLE_WORDS.search(v.lower()))},
        SpecKind.MENUS: {"machine_name": lambda v: "-" in v or v.strip().lower() in _MENU_NAMES},
    }
    return tests.get(kind, {})


def value_score(kind: SpecKind, header: tuple[str, ...], sample: Sequence[tuple[str, ...]]) -> float:
    """From 0 to _VALUE_WEIGHT: how much the sample's values look like this kind's (values that do not are no
    evidence against: a kind without such a test would win by default)."""
    roles, _ = map_headers(kind, header)
    shares = []
    for role, test in _value_tests(kind).items():
        if role in roles:
            share = _share([r[roles[role]] for r in sample if roles[role] < len(r)], test)
            if share is not None:
                shares.append(share)
    return _VALUE_WEIGHT * sum(shares) / len(shares) if shares else 0.0


def scores(candidate: Candidate) -> dict[SpecKind, float]:
    """The file's score per kind (about 0..1.2): headers, then sample values, then the name as a tie-breaker."""
    headers = frozenset(normalise_header(h) for h in candidate.header)
    hint = file_hint(candidate.name)
    result = {}
    for kind in SpecKind:
        score = header_score(kind, headers)
        if score >= _CANDIDATE:
            score += value_score(kind, candidate.header, candidate.sample) + (_NAME_BONUS if kind is hint else 0)
        result[kind] = round(max(0.0, score), 3)
    return result


def recognise_all(candidates: Sequence[Candidate]) -> list[Recognition]:
    """Recognise a whole upload set: the assignment of files to kinds with the highest total score."""
    table = [scores(c) for c in candidates]
    # Files with the same headers, the same best kind and no names pointing apart are halves of one tab: one unit
    # in the assignment.
    units: dict[tuple[object, ...], list[int]] = {}
    for i, c in enumerate(candidates):
        best = max(table[i], key=lambda k: table[i][k])
        signature = (c.override or best, tuple(normalise_header(h) for h in c.header), file_hint(c.name))
        units.setdefault(signature if c.override is None else (i,), []).append(i)
    assigned = _assign(candidates, table, list(units.values()))
    return [_recognition(i, candidates, table, assigned, units) for i in range(len(candidates))]


def _assign(
    candidates: Sequence[Candidate], table: list[dict[SpecKind, float]], units: list[list[int]]
) -> dict[int, SpecKind]:
    """Unit -> kind by a maximum-weight matching; overrides are fixed first and take their kind."""
    assigned: dict[int, SpecKind] = {}
    taken: set[SpecKind] = set()
    graph: nx.Graph[tuple[str, Any]] = nx.Graph()  # ("unit", index) and ("kind", SpecKind) nodes
    for u, members in enumerate(units):
        override = candidates[members[0]].override
        if override is not None:
            assigned[u] = override
            taken.add(override)
    for u, members in enumerate(units):
        if u in assigned:
            continue
        for kind in SpecKind:
            score = min(table[i][kind] for i in members)
            if score >= RECOGNISED and kind not in taken:
                # On equal scores the file uploaded first keeps the kind.
                graph.add_edge(("unit", u), ("kind", kind), weight=score - u * 1e-6)
    for a, b in nx.max_weight_matching(graph):
        unit, kind = (a, b) if a[0] == "unit" else (b, a)
        assigned[unit[1]] = kind[1]
    return {i: kind for u, kind in assigned.items() for i in units[u]}


def _recognition(
    i: int,
    candidates: Sequence[Candidate],
    table: list[dict[SpecKind, float]],
    assigned: dict[int, SpecKind],
    units: dict[tuple[object, ...], list[int]],
) -> Recognition:
    candidate, by_kind = candidates[i], table[i]
    ranked = sorted(by_kind.items(), key=lambda ks: -ks[1])
    shown = tuple((k, s) for k, s in ranked if s >= _CANDIDATE)[:4]
    headers = frozenset(normalise_header(h) for h in candidate.header)
    header_found = bool(headers & _COMMON_SYNONYMS) or ranked[0][1] >= RECOGNISED
    kind = assigned.get(i)
    runner_up = next((k for k, s in ranked if k != kind and s >= _CANDIDATE), None)
    halves = next((m for m in units.values() if i in m), [i])
    shares_with = ", ".join(candidates[j].name for j in halves if j != i)
    if candidate.override is not None:
        return Recognition(candidate.override, 1.0, shown, "override", header_found, runner_up, shares_with)
    shown = tuple((k, min(1.0, s)) for k, s in shown)
    if kind is None:
        hint = file_hint(candidate.name)
        if not header_found and hint is not None:
            return Recognition(None, 0.0, ((hint, 0.0), *shown), "file name", False, hint)
        # The best kind went to a better file: name it and this file's best other kind.
        return Recognition(None, min(1.0, ranked[0][1]), shown, "none", header_found, ranked[0][0] if shown else None)
    basis = "headers and file name" if file_hint(candidate.name) is kind else "headers"
    return Recognition(kind, min(1.0, by_kind[kind]), shown, basis, header_found, runner_up, shares_with)
