"""One alias matcher shared by every source: is this archive's target name 3I/ATLAS?

Archives hold target names as proposers typed them ("3I-ATLAS", "C2025N1", "comet 3I").
Folding case and dropping everything but letters and digits makes most spellings equal.
Long aliases may sit inside a longer name ("3I/ATLAS-OFFSET-TAIL"); short ones ("3I") must
be a whole word, or "M3I..." would match. A digit may not touch a long alias either, so
"C/2025 N10" is not "C/2025 N1". The word ATLAS alone is never enough: ATLAS names
supernovae and other comets (ATLAS25abc, C/2019 Y4 (ATLAS)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Folded aliases shorter than this match only as a whole word of the name.
SUBSTRING_MIN_LENGTH = 7
_NEVER_ENOUGH = {"atlas", "comet", "c", "i"}


def fold(text: str) -> str:
    """Lower-case and drop every character that is not a letter or a digit."""
    return _NON_ALNUM.sub("", text.casefold())


def words(text: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(text.casefold()) if w]


@dataclass(frozen=True)
class Match:
    alias: str
    rule: str

    @property
    def matched_by(self) -> str:
        return f"{self.rule}:{self.alias}"


class AliasMatcher:
    """Decides whether a target name denotes the target, and says which alias matched."""

    def __init__(self, name: str, aliases: Iterable[str] = ()) -> None:
        self.name = name
        self.aliases: list[str] = []
        # Every distinct spelling, case kept: archives that only compare exactly (PDS `eq`)
        # are asked about each one.
        self.spellings: list[str] = []
        seen: set[str] = set()
        for alias in [name, *aliases]:
            folded = fold(alias)
            if not folded or folded in _NEVER_ENOUGH:
                continue
            if alias.strip() not in self.spellings:
                self.spellings.append(alias.strip())
            if folded not in seen:
                seen.add(folded)
                self.aliases.append(alias)
        self._exact = {fold(a): a for a in self.aliases}
        long_aliases = [a for a in self.aliases if len(fold(a)) >= SUBSTRING_MIN_LENGTH]
        # Longest first, so matched_by names the most specific alias.
        long_aliases.sort(key=lambda a: -len(fold(a)))
        self._contained = [
            (re.compile(rf"(?<![0-9]){re.escape(fold(a))}(?![0-9])"), a) for a in long_aliases
        ]
        self._short_words = {fold(a): a for a in self.aliases if len(fold(a)) < SUBSTRING_MIN_LENGTH}

    def match(self, target_name: str | None) -> Match | None:
        if not target_name:
            return None
        folded = fold(target_name)
        if not folded:
            return None
        if folded in self._exact:
            return Match(self._exact[folded], "alias")
        for pattern, alias in self._contained:
            if pattern.search(folded):
                return Match(alias, "alias_in_name")
        for word in words(target_name):
            if word in self._short_words:
                return Match(self._short_words[word], "alias_word")
        return None

    def match_any(self, names: Iterable[str | None]) -> Match | None:
        for candidate in names:
            found = self.match(candidate)
            if found:
                return found
        return None
