"""Recognition: which kind of spec file is this? Decided mainly from the headers, with the file name as a hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from app.intake.columns import COMMON, FILE_HINTS, kind_specific_columns, normalise_header
from app.intake.model import SpecKind

_PLAUSIBLE = 0.5  # a kind scoring at least this from headers alone is a real candidate
_RECOGNISED = 0.4  # below this from headers alone, the file is not recognised
_CLOSE = 0.1  # candidates this close to the best make the choice ambiguous
_COMMON_SYNONYMS = frozenset(s for column in COMMON for s in column.synonyms)


@dataclass(frozen=True)
class Recognition:
    """The decided kind (None if unrecognised), a confidence in 0..1, candidates best first, and the basis."""

    kind: SpecKind | None
    confidence: float
    candidates: tuple[tuple[SpecKind, float], ...]
    basis: str  # "override", "headers", "headers and file name", "file name", "none"
    header_found: bool = True

    @property
    def ambiguous(self) -> bool:
        close = [k for k, score in self.candidates if k != self.kind and score >= self.confidence - _CLOSE]
        return self.basis == "headers" and bool(close)


def file_hint(name: str) -> SpecKind | None:
    """The kind the file name suggests, if any ("UWEC_CustomViewsDisplays.csv" -> view displays)."""
    stem = re.sub(r"[^a-z]", "", PurePath(name).stem.lower())
    return next((kind for pattern, kind in FILE_HINTS if re.search(pattern, stem)), None)


def header_score(kind: SpecKind, headers: frozenset[str]) -> float:
    """How well a set of normalised headers fits a kind: coverage of its columns and share of headers it explains."""
    columns = kind_specific_columns(kind)
    matched = [c for c in columns if any(s in headers for s in c.synonyms)]
    coverage = sum(c.weight for c in matched) / sum(c.weight for c in columns)
    informative = {h for h in headers if h and h not in _COMMON_SYNONYMS}
    known = {s for c in columns for s in c.synonyms}
    precision = len(informative & known) / len(informative) if informative else 0.0
    score = 0.5 * coverage + 0.5 * precision
    if any(c.key and c not in matched for c in columns):
        score *= 0.6
    return round(score, 3)


def recognise(name: str, header: tuple[str, ...], override: SpecKind | None = None) -> Recognition:
    """Score every kind against the header row; a plausible file-name hint decides between close candidates."""
    headers = frozenset(normalise_header(h) for h in header)
    scores = sorted(((kind, header_score(kind, headers)) for kind in SpecKind), key=lambda ks: -ks[1])
    candidates = tuple((kind, score) for kind, score in scores if score >= _PLAUSIBLE * 0.6)[:4]
    header_found = bool(headers & _COMMON_SYNONYMS) or scores[0][1] >= _RECOGNISED
    if override is not None:
        return Recognition(override, 1.0, candidates, "override", header_found)
    hint = file_hint(name)
    by_kind = dict(scores)
    if hint is not None and by_kind[hint] >= _PLAUSIBLE:
        return Recognition(hint, min(1.0, round(by_kind[hint] + 0.2, 3)), candidates, "headers and file name")
    best_kind, best = scores[0]
    if best >= _RECOGNISED:
        return Recognition(best_kind, best, candidates, "headers")
    if not header_found and hint is not None:
        return Recognition(None, 0.0, ((hint, 0.0), *candidates), "file name", header_found=False)
    return Recognition(None, best, candidates, "none", header_found)
