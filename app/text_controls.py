"""Characters no input may carry into the app: NUL and the other C0 controls (tab, newline and carriage return
aside) and DEL. No spreadsheet or form shows them, they mean nothing in a spec, and PostgreSQL refuses NUL in text,
so one that got in would fail later, on every retry. Intake removes them from cells (with a finding), the web layer
refuses them in paths, query strings and JSON bodies (400). Bidirectional controls (U+202E...) can make a file
name read backwards, so file names lose them too.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def describe(character: str) -> str:
    """`U+0000` for a message naming the character without printing it."""
    return f"U+{ord(character):04X}"
