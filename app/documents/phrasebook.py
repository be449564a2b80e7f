"""The phrase book of the wording check: fixed expressions, set phrases, common words and known
confusions, as data.

The default book is ``phrasebook.toml`` beside this module. Admins add entries and switch entries
off; the web layer turns those rows into :class:`Entry` objects and keys and asks
:func:`current_book` for the book to check with. Every entry has a stable :attr:`Entry.key`, so a
switch-off names the entry it silences.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

DATA_FILE = Path(__file__).with_name("phrasebook.toml")

Kind = Literal["fixed", "idiom", "word", "confusion"]
KINDS: dict[str, str] = {
    "fixed": "规范表述",
    "idiom": "固定四字格",
    "word": "常用词",
    "confusion": "常见混用",
}
HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
# What may stand inside an entry: Chinese characters, and the marks that separate the parts of a
# formulation. Anything else (Latin letters, digits) is context, allowed only in before/after.
ENTRY_TEXT = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff、，；]+$")
# A confusion may quote: 做到“两个确立”.
CONFUSION_TEXT = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff、，；“”]+$")
CONTEXT_TEXT = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff0-9A-Za-z、，；“”]+$")
FIXED_MAX_LENGTH = 80
CONFUSION_MAX_LENGTH = 20
CONTEXT_MAX_LENGTH = 10
CONTEXT_MAX_ITEMS = 60


class PhraseBookError(ValueError):
    """An entry that cannot be used; ``message`` says why, in Chinese, for the admin form."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One entry of the phrase book.

    ``text`` is the phrase (fixed, idiom, word) or the wrong form (confusion). A confusion has
    ``right``; it applies only where one of ``before`` ends just before it or one of ``after``
    starts just after it (when given), and not where one of ``not_before``/``not_after`` does.
    """

    kind: Kind
    text: str
    right: str = ""
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    note: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """Stable name of the entry, for switching it off: ``idiom:再接再厉``,
        ``confusion:聚集→聚焦|before|after|not_before|not_after``."""
        if self.kind != "confusion":
            return f"{self.kind}:{self.text}"
        contexts = (self.before, self.after, self.not_before, self.not_after)
        return f"confusion:{self.text}→{self.right}|" + "|".join("、".join(c) for c in contexts)

    def validate(self) -> Entry:
        """The entry itself, or :class:`PhraseBookError` saying what is wrong with it."""
        label = KINDS.get(self.kind)
        if label is None:
            raise PhraseBookError(f"未知的条目类别“{self.kind}”。")
        text = self.text
        if self.kind == "idiom" and not (HAN.match(text) and len(text) == 4):
            raise PhraseBookError(f"固定四字格须是四个汉字：“{text}”。")
        if self.kind == "word" and not (HAN.match(text) and len(text) == 2):
            raise PhraseBookError(f"常用词须是两个汉字：“{text}”。")
        if self.kind == "fixed":
            if not ENTRY_TEXT.match(text) or len(HAN_ONLY.sub("", text)) < 4:
                raise PhraseBookError(f"规范表述须是至少四个汉字（可用顿号、逗号分隔）：“{text}”。")
            if len(text) > FIXED_MAX_LENGTH:
                raise PhraseBookError(f"规范表述不能超过{FIXED_MAX_LENGTH}个字：“{text[:20]}…”。")
        if self.kind == "confusion":
            self._validate_confusion()
        elif self.right or self.before or self.after or self.not_before or self.not_after:
            raise PhraseBookError(f"只有常见混用才有改法和上下文：“{text}”。")
        return self

    def _validate_confusion(self) -> None:
        for name, value in (("错误写法", self.text), ("正确写法", self.right)):
            if not value or not CONFUSION_TEXT.match(value):
                raise PhraseBookError(f"常见混用的{name}须是汉字：“{value}”。")
            if len(value) > CONFUSION_MAX_LENGTH:
                raise PhraseBookError(f"常见混用的{name}不能超过{CONFUSION_MAX_LENGTH}个字。")
        if len(self.text) < 2:
            raise PhraseBookError(
                f"常见混用的错误写法至少两个字（单字请带上下文词语）：“{self.text}”。"
            )
        if self.text == self.right:
            raise PhraseBookError(f"错误写法与正确写法相同：“{self.text}”。")
        for contexts in (self.before, self.after, self.not_before, self.not_after):
            if len(contexts) > CONTEXT_MAX_ITEMS:
                raise PhraseBookError(f"上下文词语不能超过{CONTEXT_MAX_ITEMS}个。")
            for item in contexts:
                if not CONTEXT_TEXT.match(item) or len(item) > CONTEXT_MAX_LENGTH:
                    raise PhraseBookError(
                        f"上下文词语须是不超过{CONTEXT_MAX_LENGTH}个字的汉字、数字或字母：“{item}”。"
                    )

    def applies(self, text: str, start: int) -> bool:
        """For a confusion found at ``start`` of ``text``: do its context conditions hold?"""
        end = start + len(self.text)
        if self.before and not any(text.endswith(b, 0, start) for b in self.before):
            return False
        if self.after and not any(text.startswith(a, end) for a in self.after):
            return False
        if any(text.endswith(b, 0, start) for b in self.not_before):
            return False
        return not any(text.startswith(a, end) for a in self.not_after)


HAN_ONLY = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Lists:
    """Word lists of the grammar rules (的/得/地, parallel items)."""

    degree: tuple[str, ...]
    complement_1: tuple[str, ...]
    complement_2: tuple[str, ...]
    complement_alone: tuple[str, ...]
    adverbial: tuple[str, ...]
    preposition: tuple[str, ...]
    adverb_only: tuple[str, ...]
    steady_verbs: tuple[str, ...]
    frame_open: tuple[str, ...]
    frame_close: tuple[str, ...]


class PhraseBook:
    """The entries the check uses, with the look-alike characters and the grammar word lists.

    A book is immutable; :meth:`with_changes` makes a new one. :attr:`revision` changes whenever
    the entries do, so results can be cached per book.
    """

    def __init__(self, entries: Iterable[Entry], shapes: Iterable[str], lists: Lists):
        unique: dict[str, Entry] = {}
        for entry in entries:
            unique[entry.key] = entry
        self.entries: tuple[Entry, ...] = tuple(unique.values())
        self.shapes: tuple[str, ...] = tuple(shapes)
        self.lists = lists
        digest = hashlib.blake2b(digest_size=12)
        for key in unique:
            digest.update(key.encode("utf-8") + b"\n")
        for group in self.shapes:
            digest.update(group.encode("utf-8") + b"\x00")
        self.revision = digest.hexdigest()
        self._index = None

    def __len__(self) -> int:
        return len(self.entries)

    def keys(self) -> set[str]:
        return {entry.key for entry in self.entries}

    def of_kind(self, kind: Kind) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == kind]

    def with_changes(self, added: Iterable[Entry] = (), disabled: Iterable[str] = ()) -> PhraseBook:
        """This book with ``added`` entries (validated) and without the entries whose key is in
        ``disabled`` (also an added one: switching an admin's own entry off works the same)."""
        off = set(disabled)
        entries = [*self.entries, *(entry.validate() for entry in added)]
        return PhraseBook([e for e in entries if e.key not in off], self.shapes, self.lists)

    @property
    def index(self):
        """The look-up structures the check scans with, built on first use."""
        if self._index is None:
            from app.documents.wording import build_index

            self._index = build_index(self)
        return self._index


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PhraseBookError(f"词库格式错误：{where} 须是字符串列表。")
    return tuple(value)


def parse_book(data: Mapping[str, object]) -> PhraseBook:
    """A book from the structure of ``phrasebook.toml``."""
    entries: list[Entry] = []
    for kind, section in (("fixed", "fixed"), ("idiom", "idioms"), ("word", "words")):
        entries.extend(
            Entry(kind, text).validate() for text in _strings(data.get(section, []), section)
        )
    confusions = data.get("confusions", [])
    if not isinstance(confusions, list):
        raise PhraseBookError("词库格式错误：confusions 须是列表。")
    for item in confusions:
        if not isinstance(item, dict) or set(item) - CONFUSION_FIELDS:
            raise PhraseBookError(f"词库格式错误：常见混用条目 {item!r}。")
        entries.append(
            Entry(
                "confusion",
                str(item.get("wrong", "")),
                str(item.get("right", "")),
                **{
                    name: _strings(item.get(name, []), f"confusions.{name}")
                    for name in ("before", "after", "not_before", "not_after")
                },
                note=str(item.get("note", "")),
            ).validate()
        )
    lists = data.get("lists", {})
    if not isinstance(lists, dict):
        raise PhraseBookError("词库格式错误：lists 须是表。")
    word_lists = Lists(
        **{name: _strings(lists.get(name, []), f"lists.{name}") for name in Lists.__annotations__}
    )
    return PhraseBook(entries, _strings(data.get("shapes", []), "shapes"), word_lists)


CONFUSION_FIELDS = {"wrong", "right", "before", "after", "not_before", "not_after", "note"}


def load_book(path: Path = DATA_FILE) -> PhraseBook:
    with open(path, "rb") as source:
        return parse_book(tomllib.load(source))


@lru_cache(maxsize=1)
def default_book() -> PhraseBook:
    """The phrase book shipped with the code (``phrasebook.toml``)."""
    return load_book()


@lru_cache(maxsize=8)
def current_book(
    added: tuple[Entry, ...] = (), disabled: frozenset[str] = frozenset()
) -> PhraseBook:
    """The default book with the admins' additions and switch-offs, built once per distinct
    set of changes (its index is built on first use and kept with it)."""
    if not added and not disabled:
        return default_book()
    return default_book().with_changes(added, disabled)
