"""Which font file serves each typographic role of the official format (GB/T 9704-2012).

The standard asks for licensed typefaces (小标宋, 仿宋, 黑体, 楷体, 宋体). An administrator may drop
their files into ``FONT_DIR``; each file's name table (IDs 1, 16 and 21, every language) tells
which family it provides. Families are looked up in three tiers, FONT_DIR before system fonts
within each tier: the official typeface, a licensed stand-in, then a free font (Debian's, or the
Fandol fonts that ``make`` extracts into ``fonts/``). ``report()`` says which role prints in a
stand-in. Each role also has fallback faces (its next free fonts) for the characters its face
lacks, so that a 仿宋 stand-in with fewer characters still prints every character in a chosen face.

The PDF template never asks fontconfig by name: ``embed()`` cuts each face down to the document's
characters and gives each one an ``@font-face`` whose family names the typeface and the role
(``FandolFang-Regular_body``), which is also the font's name inside the PDF; the stylesheet
reads the families of a role from ``var(--rf-<role>)``. A face inside a collection (.ttc) is
first copied out to a single font file, because WeasyPrint registers every face of a collection
under the @font-face family and fontconfig then picks one of them (the Japanese face of Noto
CJK, in practice).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import uharfbuzz as hb
from fontTools.ttLib import TTCollection, TTFont

ROLES: tuple[str, ...] = ("title", "body", "heading1", "heading2", "page_number")

FONT_SUFFIXES = frozenset({".ttf", ".otf", ".ttc", ".otc"})
# Name IDs naming a family: legacy family, typographic family, WWS family.
FAMILY_NAME_IDS = (1, 16, 21)
# Free fonts that `make` extracts from Debian packages without installing them (the Fandol
# fonts of texlive-lang-chinese: scripts/free-fonts.sh). Searched like system fonts.
BUNDLED_FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"
# How many free faces stand behind a role's face for the characters it lacks.
MAX_FALLBACKS = 2
# Where fonts live when fc-list is not installed.
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)

OFFICIAL, STAND_IN, FREE = "official", "stand-in", "free"


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    index: int  # the face inside a collection (.ttc); 0 for a single font file


@dataclass(frozen=True)
class RoleFont:
    role: str
    face: FontFace
    official: bool
    weight: int
    stack: tuple[str, ...]
    missing_official: tuple[str, ...]
    # Free faces, in order, for the characters ``face`` has no glyph for.
    fallbacks: tuple[FontFace, ...] = ()

    @property
    def faces(self) -> tuple[FontFace, ...]:
        return (self.face, *self.fallbacks)


@dataclass(frozen=True)
class _Candidate:
    family: str
    weight: int
    tier: str


_Names = tuple[
    tuple[str, ...], ...
]  # one font per inner tuple, under its Chinese and English names


@dataclass(frozen=True)
class _RoleSpec:
    label: str  # 标题
    typeface: str  # the style the standard names: 小标宋
    size: str  # 2号
    official: _Names
    free: _Names
    free_weight: int = 400
    stand_ins: _Names = ()  # licensed fonts that only look like the official one
    free_note: str = ""  # why a free stand-in is acceptable, when it is

    @property
    def wanted(self) -> str:
        """The official font an office PC has."""
        return self.official[0][0]

    @property
    def candidates(self) -> tuple[_Candidate, ...]:
        tiers = (
            (OFFICIAL, 400, self.official),
            (STAND_IN, 400, self.stand_ins),
            (FREE, self.free_weight, self.free),
        )
        return tuple(
            _Candidate(name, weight, tier)
            for tier, weight, fonts in tiers
            for names in fonts
            for name in names
        )

    @property
    def stack(self) -> tuple[str, ...]:
        return tuple(c.family for c in self.candidates)

    def names(self, tier: str) -> tuple[str, ...]:
        return tuple(c.family for c in self.candidates if c.tier == tier)


NOTO_SERIF = (("Noto Serif CJK SC", "Noto Serif SC"), ("思源宋体", "Source Han Serif SC"))
# Fandol (GPL with the font exception): a 仿宋 and a 楷体 close to the official styles, about
# 10,000 characters each (GB2312 and more); what they lack falls back to Noto / LXGW WenKai.
FANDOL_FANG = (("FandolFang",),)
FANDOL_KAI = (("FandolKai",),)

# Windows, Office and macOS spell each family differently, in Chinese and in English. 方正 and 华文
# fonts of the same style count as official: the standard names a style (仿宋体), not a vendor.
ROLE_SPECS: dict[str, _RoleSpec] = {
    "title": _RoleSpec(
        label="标题",
        typeface="小标宋",
        size="2号",
        official=(
            ("方正小标宋简体", "FZXiaoBiaoSong-B05S"),
            ("方正小标宋_GBK", "FZXiaoBiaoSong-B05"),
        ),
        stand_ins=(("华文中宋", "STZhongsong"),),
        # No free font imitates 小标宋; a heavy Song is the usual stand-in.
        free=NOTO_SERIF,
        free_weight=700,
    ),
    "body": _RoleSpec(
        label="正文",
        typeface="仿宋",
        size="3号",
        official=(
            ("仿宋_GB2312", "FangSong_GB2312"),
            ("仿宋", "FangSong"),
            ("方正仿宋_GBK", "FZFangSong-Z02"),
            ("方正仿宋简体", "FZFangSong-Z02S"),
            ("华文仿宋", "STFangsong"),
        ),
        # FandolFang is a real 仿宋 (fonts-cwtex-fs is Traditional only); Noto Serif where it
        # is absent, and for the characters it lacks.
        free=(*FANDOL_FANG, *NOTO_SERIF),
    ),
    "heading1": _RoleSpec(
        label="一级标题",
        typeface="黑体",
        size="3号",
        official=(
            ("黑体", "SimHei"),
            ("方正黑体_GBK", "FZHei-B01"),
            ("方正黑体简体", "FZHei-B01S"),
            ("华文黑体", "STHeiti"),
            ("黑体-简", "Heiti SC"),
        ),
        free=(("Noto Sans CJK SC", "Noto Sans SC"), ("思源黑体", "Source Han Sans SC")),
        # 黑体 is between Noto Sans Regular and Bold: Medium where installed, else Regular.
        free_weight=500,
    ),
    "heading2": _RoleSpec(
        label="二级标题",
        typeface="楷体",
        size="3号",
        official=(
            ("楷体_GB2312", "KaiTi_GB2312"),
            ("楷体", "KaiTi"),
            ("方正楷体_GBK", "FZKai-Z03"),
            ("方正楷体简体", "FZKai-Z03S"),
            ("华文楷体", "STKaiti"),
            ("楷体-简", "Kaiti SC"),
        ),
        # FandolKai is a classic 楷体 like 楷体_GB2312; LXGW WenKai is a looser handwriting.
        free=(*FANDOL_KAI, ("LXGW WenKai", "霞鹜文楷"), ("AR PL UKai CN",)),
    ),
    "page_number": _RoleSpec(
        label="页码",
        typeface="宋体",
        size="4号",
        official=(
            ("宋体", "SimSun"),
            ("方正书宋_GBK", "FZShuSong-Z01"),
            ("方正书宋简体", "FZShuSong-Z01S"),
            ("华文宋体", "STSong"),
            ("宋体-简", "Songti SC"),
        ),
        free=NOTO_SERIF,
        free_note="思源宋体同属宋体，页码只有数字和横线，差别很小。",
    ),
}


class FontsUnavailable(RuntimeError):
    """No installed or uploaded font can serve a role."""


# --- finding faces ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Face:
    path: Path
    index: int
    families: tuple[str, ...]
    weight: int
    italic: bool


def _norm(family: str) -> str:
    """Family names compare without case, spaces, hyphens or underscores."""
    return "".join(ch for ch in family.casefold() if ch not in " -_\x00")


def _css_weight(os2_weight: int) -> int:
    # Some old fonts store 1–9 instead of 100–900.
    return os2_weight * 100 if 0 < os2_weight < 10 else os2_weight or 400


def _face_from_ttfont(path: Path, index: int, font: TTFont) -> _Face:
    families: dict[str, None] = {}
    if "name" in font:
        for record in font["name"].names:
            if record.nameID in FAMILY_NAME_IDS:
                name = record.toUnicode(errors="replace").replace("\x00", "").strip()
                if name:
                    families[name] = None
    weight, italic = 400, False
    if "OS/2" in font:
        weight = _css_weight(font["OS/2"].usWeightClass)
        italic = bool(font["OS/2"].fsSelection & 1)
    elif "head" in font:
        weight = 700 if font["head"].macStyle & 1 else 400
    if "head" in font:
        italic = italic or bool(font["head"].macStyle & 2)
    return _Face(path, index, tuple(families), weight, italic)


def _is_collection(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"ttcf"


@contextmanager
def _open_font(path: Path, index: int, **options) -> Iterator[TTFont]:
    # fontTools leaves the file open when it fails on a broken font; this closes it.
    with path.open("rb") as file:
        yield TTFont(file, fontNumber=index, lazy=True, **options)


def _read_file(path: Path) -> list[_Face]:
    """Every face of one font file; raises on a file that is not a readable font."""
    with path.open("rb") as file:
        if file.read(4) == b"ttcf":
            file.seek(0)
            collection = TTCollection(file, lazy=True)
            return [_face_from_ttfont(path, i, f) for i, f in enumerate(collection.fonts)]
        file.seek(0)
        return [_face_from_ttfont(path, 0, TTFont(file, lazy=True))]


@dataclass(frozen=True)
class _ScannedFile:
    path: Path
    faces: tuple[_Face, ...]
    error: str | None


_file_cache: dict[tuple[str, int, int], _ScannedFile] = {}


def _scan_file(path: Path, stat: os.stat_result) -> _ScannedFile:
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    scanned = _file_cache.get(key)
    if scanned is None:
        try:
            scanned = _ScannedFile(path, tuple(_read_file(path)), None)
        except Exception as exc:  # a broken upload must not stop rendering
            scanned = _ScannedFile(path, (), f"{type(exc).__name__}: {exc}"[:200])
        _file_cache[key] = scanned
    return scanned


def _font_files(folder: Path) -> list[tuple[Path, os.stat_result]]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.suffix.lower() in FONT_SUFFIXES:
                try:
                    found.append((path, path.stat()))
                except OSError:
                    continue
    return found


def _index(faces: Iterable[_Face]) -> dict[str, list[_Face]]:
    by_family: dict[str, list[_Face]] = {}
    for face in faces:
        for family in {_norm(f) for f in face.families}:
            by_family.setdefault(family, []).append(face)
    return by_family


def _fc_weight(value: str) -> int:
    """fontconfig's weight scale to CSS; a variable font's range counts as regular."""
    try:
        fc = float(value)
    except ValueError:
        return 400
    scale = ((0, 100), (40, 200), (50, 300), (55, 350), (75, 380), (80, 400), (100, 500))
    scale += ((180, 600), (200, 700), (205, 800), (210, 900), (215, 950))
    return min(scale, key=lambda pair: abs(pair[0] - fc))[1]


def _fc_list() -> list[_Face] | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    fmt = "%{file}\t%{index}\t%{family}\t%{weight}\t%{slant}\n"
    try:
        out = subprocess.run(
            [fc_list, "--format", fmt], capture_output=True, check=True, timeout=30
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not parts[1].isdigit():
            continue
        file, index, families, weight, slant = parts
        if int(index) >> 16:  # a named instance of a variable font; its base face is listed too
            continue
        path = Path(file)
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue  # .pfb, .pcf and other formats WeasyPrint cannot embed from @font-face
        italic = slant not in ("", "0")
        names = tuple(f for f in families.split(",") if f)
        faces.append(_Face(path, int(index), names, _fc_weight(weight), italic))
    return faces


@lru_cache(maxsize=1)
def _system_index() -> dict[str, list[_Face]]:
    """Installed fonts and those in ``BUNDLED_FONT_DIR``, once per process (installing fonts
    means restarting the app anyway)."""
    faces = _fc_list()
    folders = [BUNDLED_FONT_DIR]
    if faces is None:
        faces = []
        folders += [Path(os.path.expanduser(folder)) for folder in SYSTEM_FONT_DIRS]
    faces += [
        face
        for folder in folders
        if folder.is_dir()
        for path, stat in _font_files(folder)
        for face in _scan_file(path, stat).faces
    ]
    return _index(faces)


def _best(faces: list[_Face], weight: int) -> _Face:
    return min(
        faces, key=lambda f: (f.italic, abs(f.weight - weight), -f.weight, str(f.path), f.index)
    )


@dataclass(frozen=True)
class _FaceInfo:
    weight: int
    postscript: str  # name ID 6, reduced to what a PDF name and a CSS family may hold


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "", name)[:48]


@lru_cache(maxsize=64)
def _face_info(path: Path, index: int, size: int, mtime_ns: int) -> _FaceInfo:
    with _open_font(path, index) as font:
        face = _face_from_ttfont(path, index, font)
        postscript = font["name"].getDebugName(6) if "name" in font else None
    postscript = _safe_name(postscript or "") or _safe_name("".join(face.families))
    return _FaceInfo(face.weight, postscript or f"{_safe_name(path.stem) or 'font'}-{index}")


def _info(face: _Face | FontFace) -> _FaceInfo | None:
    try:
        stat = face.path.stat()
        return _face_info(face.path, face.index, stat.st_size, stat.st_mtime_ns)
    except Exception:  # unreadable: fall back on what the listing said
        return None


def _real_weight(face: _Face) -> int:
    info = _info(face)
    return info.weight if info else face.weight


def _postscript_name(face: _Face | FontFace) -> str:
    info = _info(face)
    return info.postscript if info else f"{_safe_name(face.path.stem) or 'font'}-{face.index}"


@dataclass(frozen=True)
class _Choice:
    role: str
    font: RoleFont | None
    source: str | None  # "font_dir" or "system"
    tier: str | None


def _found(
    candidates: Iterable[_Candidate], indexes: Iterable[tuple[str, dict[str, list[_Face]]]]
) -> Iterator[tuple[str, _Candidate, _Face]]:
    """The faces of ``candidates`` in order of preference: per index, per candidate."""
    for source, index in indexes:
        for candidate in candidates:
            faces = index.get(_norm(candidate.family))
            if faces:
                yield source, candidate, _best(faces, candidate.weight)


def _fallbacks(spec: _RoleSpec, chosen: _Face, indexes) -> tuple[FontFace, ...]:
    """The role's free faces after ``chosen``, one per typeface, for the characters it lacks."""
    free = [c for c in spec.candidates if c.tier == FREE]
    seen = {(chosen.path, chosen.index)}
    names = {_postscript_name(chosen)}
    faces: list[FontFace] = []
    for _source, candidate, face in _found(free, indexes):
        name = _postscript_name(face)
        if (face.path, face.index) in seen or name in names:
            continue
        seen.add((face.path, face.index))
        names.add(name)
        faces.append(FontFace(candidate.family, face.path, face.index))
        if len(faces) == MAX_FALLBACKS:
            break
    return tuple(faces)


def _choose(role: str, dir_index: dict[str, list[_Face]]) -> _Choice:
    spec = ROLE_SPECS[role]
    indexes = (("font_dir", dir_index), ("system", _system_index()))
    for tier in (OFFICIAL, STAND_IN, FREE):
        candidates = [c for c in spec.candidates if c.tier == tier]
        for source, candidate, face in _found(candidates, indexes):
            official = tier == OFFICIAL
            font = RoleFont(
                role=role,
                face=FontFace(candidate.family, face.path, face.index),
                official=official,
                weight=_real_weight(face),
                stack=spec.stack,
                missing_official=() if official else spec.names(OFFICIAL),
                fallbacks=_fallbacks(spec, face, indexes),
            )
            return _Choice(role, font, source, tier)
    return _Choice(role, None, None, None)


# --- resolving, cached --------------------------------------------------------------------------

_lock = threading.Lock()
_resolved: dict[tuple, dict[str, _Choice]] = {}


def _dir_state(font_dir: Path | None) -> tuple[tuple, list[tuple[Path, os.stat_result]]]:
    if font_dir is None:
        return (None,), []
    try:
        mtime = font_dir.stat().st_mtime_ns
    except OSError:
        return (str(font_dir), None), []
    files = _font_files(font_dir)
    # The folder's mtime misses files overwritten in place or changed in subfolders.
    key = (str(font_dir), mtime, tuple((str(p), s.st_size, s.st_mtime_ns) for p, s in files))
    return key, files


def _resolve(font_dir: Path | None) -> dict[str, _Choice]:
    font_dir = Path(font_dir) if font_dir is not None else None
    key, files = _dir_state(font_dir)
    choices = _resolved.get(key)
    if choices is not None:
        return choices
    with _lock:
        choices = _resolved.get(key)
        if choices is None:
            faces = [face for path, stat in files for face in _scan_file(path, stat).faces]
            dir_index = _index(faces)
            choices = {role: _choose(role, dir_index) for role in ROLES}
            # Keep a few folder states: tests and the admin page may look at several folders.
            if len(_resolved) >= 8:
                _resolved.pop(next(iter(_resolved)))
            _resolved[key] = choices
    return choices


def resolve_roles(font_dir: Path | None) -> dict[str, RoleFont]:
    """The face serving each role: an official font from ``font_dir`` or the system, else a
    stand-in. Cached per folder state, so calling it on every render costs a directory scan.

    Raises ``FontsUnavailable`` when no font at all can serve a role."""
    choices = _resolve(font_dir)
    missing = [role for role, choice in choices.items() if choice.font is None]
    if missing:
        labels = "、".join(ROLE_SPECS[role].label for role in missing)
        raise FontsUnavailable(
            f"找不到可用于{labels}的字体：请安装 fonts-noto-cjk 与 fonts-lxgw-wenkai，"
            "或将字体文件放入字体目录。"
        )
    return {role: choice.font for role, choice in choices.items() if choice.font is not None}


def clear_cache() -> None:
    """Forget every scan (system fonts included), e.g. after installing fonts."""
    with _lock:
        _resolved.clear()
        _file_cache.clear()
        _system_index.cache_clear()
        _face_info.cache_clear()
        _metrics.cache_clear()
        _advances.cache_clear()
        _served.clear()


# --- @font-face ----------------------------------------------------------------------------------

_served: dict[tuple[str, int, int, int, str], Path] = {}


def default_cache_dir() -> Path:
    """``instance/font-cache`` of the running app (or of the configured instance path)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.instance_path) / "font-cache"
    from app.core.config import INSTANCE

    return INSTANCE / "font-cache"


def served_file(face: FontFace, cache_dir: Path | None = None) -> Path:
    """A single-face font file for ``face``: the file itself, or for a face inside a collection
    a copy of that face extracted once into ``cache_dir`` (default ``instance/font-cache``)."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stat = face.path.stat()
    key = (str(face.path), face.index, stat.st_size, stat.st_mtime_ns, str(cache_dir))
    served = _served.get(key)
    if served is not None and served.exists():
        return served
    if _is_collection(face.path):
        with _lock:
            served = _extract(face, stat, cache_dir)
    else:
        served = face.path
    _served[key] = served
    return served


def _extract(face: FontFace, stat: os.stat_result, cache_dir: Path) -> Path:
    path_id = hashlib.sha256(str(face.path).encode()).hexdigest()[:10]
    version = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    stem = f"{face.path.stem}-{face.index}-{path_id}"
    for suffix in (".otf", ".ttf"):
        target = cache_dir / f"{stem}-{version}{suffix}"
        if target.exists():
            return target
    # Tables are copied as they are (lazy, no recalculation), so the copy is deterministic and
    # a PDF made from it is byte-identical to one made before.
    with _open_font(face.path, face.index, recalcBBoxes=False, recalcTimestamp=False) as font:
        suffix = ".otf" if font.sfntVersion == "OTTO" else ".ttf"
        target = cache_dir / f"{stem}-{version}{suffix}"
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        font.save(partial, reorderTables=False)
    os.replace(partial, target)  # atomic: another worker may be extracting the same face
    for old in cache_dir.iterdir():  # copies of an earlier version of the same file
        if old.name.startswith(f"{stem}-") and old != target:
            old.unlink(missing_ok=True)
    return target


def _css_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


def css_family(role: str, face: FontFace) -> str:
    """The ``@font-face`` family of ``face`` when it prints ``role``. WeasyPrint names an
    embedded font after its family, so this is also the font's name in the PDF: it says which
    typeface printed which part (``FandolFang-Regular_body``, ``NotoSerifCJKsc-Bold_title``)."""
    return f"{_postscript_name(face)}_{role}"


def _ordered(roles: dict[str, RoleFont]) -> list[str]:
    return sorted(roles, key=lambda r: ROLES.index(r) if r in ROLES else len(ROLES))


def font_face_css(
    roles: dict[str, RoleFont],
    url_for_file: Callable[[Path], str],
    *,
    cache_dir: Path | None = None,
) -> str:
    """:func:`face_css` for whole faces: one ``@font-face`` per face of each role (its own and
    its fallbacks), each pointing at a single-face file, so that the PDF never depends on
    system font lookup."""
    return face_css(
        [
            (role, css_family(role, face), roles[role].weight, url)
            for role in _ordered(roles)
            for face in roles[role].faces
            for url in [url_for_file(served_file(face, cache_dir))]
        ]
    )


@lru_cache(maxsize=16)
def _hb_face(path: Path, size: int, mtime_ns: int) -> hb.Face:
    # Mapped, not read: a cut touches the tables and the glyphs it keeps, not the whole file.
    return hb.Face(hb.Blob.from_file_path(str(path)))


def release_faces() -> None:
    """Unmap the font files kept for cutting (their pages count in this process's memory):
    after a volume's parts are prepared, while the workers lay them out."""
    _hb_face.cache_clear()


def subset_face(
    face: FontFace,
    characters: Iterable[str],
    cache_dir: Path | None = None,
    *,
    keep_glyph_ids: bool = False,
) -> bytes:
    """``face`` cut down to ``characters`` (with the layout rules that shape them).

    WeasyPrint subsets again but keeps glyph ids, so its output grows with the highest glyph id
    used: a CJK face embedded whole costs ~90 KB per role even for a dozen characters. Cutting
    the face down first keeps each embedded font to the glyphs the document prints.

    The cut renumbers the glyphs, and WeasyPrint writes glyph ids as the CIDs of the PDF font.
    A CID-keyed CFF font maps CIDs to glyphs through its charset, which a plain cut leaves
    holding the original CIDs: Poppler, PDFium and pdf.js read CIDs as glyph ids anyway, but
    Ghostscript and MuPDF follow the charset and found no glyph (empty boxes, blank pages). The
    identity charset (CID = new glyph id) makes every reader find the same glyph, at no cost.

    ``keep_glyph_ids``: the glyphs keep the face's own numbers, so that documents laid out
    with different cuts of the face print the same glyph under the same id and can share one
    font program when joined (a volume's plates, ``plates.py``)."""
    path = served_file(face, cache_dir)
    stat = path.stat()
    subset_input = hb.SubsetInput()
    subset_input.unicode_set.update(ord(char) for char in characters)
    subset_input.flags = hb.SubsetFlags.CFF_IDENTITY_CHARSET
    if keep_glyph_ids:
        subset_input.flags |= hb.SubsetFlags.RETAIN_GIDS
    hb_face = _hb_face(path, stat.st_size, stat.st_mtime_ns)
    return bytes(hb.subset(hb_face, subset_input).blob.data)


def faces_for(font: RoleFont, characters: Iterable[str]) -> dict[FontFace, set[str]]:
    """Which face prints which characters: the role's own face all it has (and what no face
    has, which prints as any missing glyph does), each fallback what the faces before it lack.
    Fallbacks that print nothing are left out."""
    assigned: dict[FontFace, set[str]] = {face: set() for face in font.faces}
    own = _face_metrics(font.face)
    for char in characters:
        face = font.face
        if own.units(ord(char)) is None:
            face = _face_with(font.fallbacks, char) or font.face
        assigned[face].add(char)
    return {face: chars for face, chars in assigned.items() if chars or face == font.face}


def embed(
    roles: dict[str, RoleFont],
    characters: dict[str, set[str]],
    url_for: Callable[[str], str],
    cache_dir: Path | None = None,
    *,
    keep_glyph_ids: bool = False,
) -> tuple[dict[str, bytes], str]:
    """The font files a document needs, each face cut down to the characters it prints there,
    by name (``fonts/<family>.otf``), and the CSS that loads them (:func:`face_css`);
    ``url_for(name)`` is the URL under which the document's fetcher serves a name."""
    files: dict[str, bytes] = {}
    entries = []
    for role in _ordered(roles):
        font = roles[role]
        for face, chars in faces_for(font, characters.get(role, ())).items():
            family = css_family(role, face)
            name = f"fonts/{family}.otf"
            files[name] = subset_face(face, chars, cache_dir, keep_glyph_ids=keep_glyph_ids)
            entries.append((role, family, font.weight, url_for(name)))
    return files, face_css(entries)


# What a PDF reader never uses, dropped from a font program embedded by us (as WeasyPrint does).
_LAYOUT_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT")


def embeddable_program(font_file: bytes, glyph_ids: Iterable[int]) -> bytes:
    """A font file (cut with ``keep_glyph_ids``) reduced to ``glyph_ids``, numbers kept, for
    embedding under CIDs equal to glyph ids, as WeasyPrint embeds one: layout tables and hints
    dropped, CFF subroutines expanded, the CFF charset the identity."""
    subset_input = hb.SubsetInput()
    subset_input.glyph_set.update(glyph_ids)
    subset_input.flags = (
        hb.SubsetFlags.RETAIN_GIDS
        | hb.SubsetFlags.CFF_IDENTITY_CHARSET
        | hb.SubsetFlags.DESUBROUTINIZE
        | hb.SubsetFlags.NO_HINTING
        | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
    )
    subset_input.drop_table_tag_set.update(_tag(tag) for tag in _LAYOUT_TABLES)
    face = hb.Face(hb.Blob(font_file))
    return bytes(hb.subset(face, subset_input).blob.data)


def _tag(name: str) -> int:
    return int.from_bytes(name.ljust(4).encode("ascii"), "big")


def face_css(entries: list[tuple[str, str, int, str]]) -> str:
    """``@font-face`` rules from (role, family, weight, url of the file) and, per role, the
    variable ``--rf-<role>`` holding its families in order, which the stylesheet uses as
    ``font-family: var(--rf-body)``. Pango takes each character from the first family that
    has it. (Page margin boxes do not inherit from the root element, so ``@page`` gets the
    variables too.)"""
    rules = []
    families: dict[str, list[str]] = {}
    for role, family, weight, url in entries:
        weight = min(900, max(100, round(weight / 100) * 100))
        rules.append(
            "@font-face {\n"
            f"  font-family: {_css_string(family)};\n"
            f"  src: url({_css_string(url)});\n"
            f"  font-weight: {weight};\n"
            "  font-style: normal;\n"
            "}"
        )
        families.setdefault(role, []).append(family)
    variables = "".join(
        f"  --rf-{role}: {', '.join(map(_css_string, names))};\n"
        for role, names in families.items()
    )
    return "\n".join(rules) + f"\n:root {{\n{variables}}}\n@page {{\n{variables}}}\n"


# --- glyph coverage and advances -----------------------------------------------------------------

_NO_GLYPH = 0xFFFF


@dataclass(frozen=True)
class _Metrics:
    """Advance widths by code point, in font units (``_NO_GLYPH`` where the cmap has none)."""

    units_per_em: int
    bmp: array
    astral: dict[int, int]

    def units(self, codepoint: int) -> int | None:
        if codepoint < 0x10000:
            units = self.bmp[codepoint]
            return None if units == _NO_GLYPH else units
        return self.astral.get(codepoint)

    @property
    def count(self) -> int:
        return sum(1 for u in self.bmp if u != _NO_GLYPH) + len(self.astral)


def _zh_hans_locl(font: TTFont) -> dict[str, str]:
    """The glyph substitutions HarfBuzz makes in Simplified Chinese text (``lang="zh-CN"``): the
    ``locl`` single substitutions of the Han script's ZHS language system. In Noto CJK they turn
    — and ASCII quotes into full-width glyphs, which changes their advance."""
    if "GSUB" not in font:
        return {}
    gsub = font["GSUB"].table
    if not gsub.ScriptList or not gsub.FeatureList or not gsub.LookupList:
        return {}
    scripts = {record.ScriptTag: record.Script for record in gsub.ScriptList.ScriptRecord}
    script = scripts.get("hani") or scripts.get("DFLT")
    if script is None:
        return {}
    langsys = next((r.LangSys for r in script.LangSysRecord if r.LangSysTag == "ZHS "), None)
    if langsys is None:
        return {}
    mapping: dict[str, str] = {}
    for feature_index in langsys.FeatureIndex:
        feature = gsub.FeatureList.FeatureRecord[feature_index]
        if feature.FeatureTag != "locl":
            continue
        for lookup_index in feature.Feature.LookupListIndex:
            lookup = gsub.LookupList.Lookup[lookup_index]
            for subtable in lookup.SubTable:
                if lookup.LookupType == 7:  # extension: the real subtable is inside
                    subtable = subtable.ExtSubTable
                if subtable.LookupType == 1:
                    mapping.update(subtable.mapping)
    return mapping


@lru_cache(maxsize=32)
def _metrics(path: Path, index: int, size: int, mtime_ns: int) -> _Metrics:
    with _open_font(path, index) as font:
        cmap = font.getBestCmap() or {}
        hmtx = font["hmtx"].metrics
        notdef = font.getGlyphOrder()[0]
        locl = _zh_hans_locl(font)
        bmp = array("H", [_NO_GLYPH]) * 0x10000
        astral = {}
        for codepoint, glyph in cmap.items():
            if glyph == notdef or glyph not in hmtx:
                continue
            advance = min(hmtx[locl.get(glyph, glyph)][0], _NO_GLYPH - 1)
            if codepoint < 0x10000:
                bmp[codepoint] = advance
            else:
                astral[codepoint] = advance
        return _Metrics(font["head"].unitsPerEm, bmp, astral)


def _face_metrics(face: FontFace) -> _Metrics:
    stat = face.path.stat()
    return _metrics(face.path, face.index, stat.st_size, stat.st_mtime_ns)


def _ignorable(ch: str) -> bool:
    """Characters no font needs a glyph for: whitespace, controls, format characters
    (zero-width joiners…) and variation selectors, which only pick among a base's glyphs."""
    if ch.isspace():
        return True
    codepoint = ord(ch)
    if 0xFE00 <= codepoint <= 0xFE0F or 0xE0100 <= codepoint <= 0xE01EF:
        return True
    if 0x180B <= codepoint <= 0x180F:  # Mongolian free variation selectors
        return True
    return unicodedata.category(ch) in ("Cc", "Cf")


def _face_with(faces: Iterable[FontFace], char: str) -> FontFace | None:
    """The first of ``faces`` with a glyph for ``char``."""
    return next((face for face in faces if _face_metrics(face).units(ord(char)) is not None), None)


class _Lacked(dict):
    """Whether a face lacks a character, by character; filled on first use of each."""

    def __init__(self, face: FontFace):
        super().__init__()
        self.metrics = _face_metrics(face)

    def __missing__(self, ch: str) -> bool:
        lacked = self[ch] = not _ignorable(ch) and self.metrics.units(ord(ch)) is None
        return lacked


@lru_cache(maxsize=16)
def _lacked(face: FontFace, version: tuple[int, int]) -> _Lacked:
    return _Lacked(face)


def lacked_by_own_face(role: RoleFont) -> Callable[[str], bool]:
    """Whether the role's own face has no glyph for a character (not whitespace, a control or
    a variation selector): a fallback face or some other font draws it, with its own ascent
    and descent. One dict lookup a character after its first use (``map`` it over a text)."""
    stat = role.face.path.stat()
    return _lacked(role.face, (stat.st_size, stat.st_mtime_ns)).__getitem__


def missing_characters(text: str, role: RoleFont) -> set[str]:
    """The characters of ``text`` that none of the role's faces (its own and its fallbacks)
    has a glyph for (they would print as tofu or in some other font), ignoring whitespace,
    controls and variation selectors."""
    lacks = lacked_by_own_face(role)
    return {ch for ch in set(text) if lacks(ch) and _face_with(role.fallbacks, ch) is None}


def fallback_characters(text: str, role: RoleFont) -> set[str]:
    """The characters of ``text`` that the role's own face lacks and a fallback prints."""
    lacks = lacked_by_own_face(role)
    return {ch for ch in set(text) if lacks(ch) and _face_with(role.fallbacks, ch) is not None}


class _Advances(dict):
    """Advance in em by character, from the first face that has it; filled on first use of
    each character (so a fallback face's widths are read only when a text needs them)."""

    def __init__(self, faces: tuple[FontFace, ...]):
        super().__init__()
        self.faces = faces

    def __missing__(self, text: str) -> float:
        if len(text) != 1:
            return sum(self[ch] for ch in text)
        face = _face_with(self.faces, text)
        if face is not None:
            metrics = _face_metrics(face)
            advance = metrics.units(ord(text)) / metrics.units_per_em
        elif _ignorable(text) and not text.isspace():
            advance = 0.0
        else:
            # In no face: another font will draw it; guess from its East Asian width.
            advance = 1.0 if unicodedata.east_asian_width(text) in ("W", "F") else 0.5
        self[text] = advance
        return advance


@lru_cache(maxsize=16)
def _advances(faces: tuple[FontFace, ...], versions: tuple[tuple[int, int], ...]) -> _Advances:
    return _Advances(faces)


def advance_em(role: RoleFont) -> Callable[[str], float]:
    """A function giving a character's advance width in em, as HarfBuzz shapes it in
    ``lang="zh-CN"`` text (cmap, the zh-Hans ``locl`` substitutions, hmtx) in the first of the
    role's faces that has it; kerning is left out, so lines measured with it should be set with
    ``font-kerning: none``. A longer string gives the sum. After a character's first use it is
    one dict lookup, and every caller of the same faces shares the table."""
    versions = tuple((s.st_size, s.st_mtime_ns) for s in (f.path.stat() for f in role.faces))
    return _advances(role.faces, versions).__getitem__


# --- report --------------------------------------------------------------------------------------


def stand_in_text(font: RoleFont) -> str | None:
    """In plain words, which stand-in prints the role instead of its official typeface (and
    which face fills in the characters it lacks); None for an official font."""
    if font.official:
        return None
    spec = ROLE_SPECS[font.role]
    text = (
        f"{spec.label}应为{spec.typeface}（正式字体“{spec.wanted}”），"
        f"现由替代字体“{font.face.family}”印出"
    )
    if font.fallbacks:
        text += "，它缺的字由" + "、".join(f"“{f.family}”" for f in font.fallbacks) + "补"
    return text + "。"


def report(font_dir: Path | None) -> list[dict]:
    """Per role, for the admin page and ``flask fonts``: which font prints it and whether it is
    the official one, with a warning in Chinese when it is not."""
    font_dir = Path(font_dir) if font_dir is not None else None
    rows = []
    for role, choice in _resolve(font_dir).items():
        spec = ROLE_SPECS[role]
        font = choice.font
        row = {
            "role": role,
            "label": spec.label,
            "typeface": spec.typeface,
            "size": spec.size,
            "wanted": spec.wanted,
            "family": font.face.family if font else None,
            "file": str(font.face.path) if font else None,
            "index": font.face.index if font else None,
            "weight": font.weight if font else None,
            "fallbacks": [face.family for face in font.fallbacks] if font else [],
            "source": choice.source,
            "official": bool(font and font.official),
            "official_text": "是" if font and font.official else "否",
            "stand_in": choice.tier == STAND_IN,
            # What prints instead of the official typeface, in plain words (None if official).
            "stand_in_text": stand_in_text(font) if font else None,
            "missing_official": list(font.missing_official) if font else list(spec.names(OFFICIAL)),
            "characters": _face_metrics(font.face).count if font else 0,
            "level": "ok",
            "warning": None,
        }
        where = f"字体目录 {font_dir}" if font_dir else "字体目录（配置项 FONT_DIR）"
        if font is None:
            row["level"] = "error"
            row["warning"] = (
                f"找不到可用于{spec.label}的字体（{spec.typeface}），无法生成公文格式 PDF。"
                f"请将“{spec.wanted}”字体文件放入{where}，或安装 fonts-noto-cjk。"
            )
        elif not font.official:
            row["level"] = "info" if spec.free_note and choice.tier == FREE else "warning"
            row["warning"] = (
                f"{stand_in_text(font)}{spec.free_note}"
                f"可将单位授权的“{spec.wanted}”字体文件（.ttf/.otf/.ttc）放入{where}。"
            )
        rows.append(row)
    return rows


def font_dir_files(font_dir: Path | None) -> list[dict]:
    """Every font file in ``font_dir`` with the families it provides (or why it is unreadable)
    and the roles it serves, for the admin page."""
    if font_dir is None or not Path(font_dir).is_dir():
        return []
    choices = _resolve(Path(font_dir))
    rows = []
    for path, stat in _font_files(Path(font_dir)):
        scanned = _scan_file(path, stat)
        rows.append(
            {
                "file": str(path),
                "size": stat.st_size,
                "error": scanned.error,
                "faces": [
                    {"index": f.index, "families": list(f.families), "weight": f.weight}
                    for f in scanned.faces
                ],
                "roles": [
                    ROLE_SPECS[role].label
                    for role, choice in choices.items()
                    if choice.font is not None and choice.font.face.path == path
                ],
            }
        )
    return rows
