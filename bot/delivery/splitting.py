"""Split long Telegram-HTML messages at sensible boundaries, keeping every part well-formed.

Telegram's 4096 limit counts the *visible* text after entity parsing, in UTF-16 code
units; tags cost nothing. `split_html` cuts at the best boundary that fits, preferring
(in this order) a blank line, a newline, a sentence end (". ", "! ", "? ", "…", also
"。！？" without a space), any whitespace, and only then a hard cut. Within one kind the
latest boundary that fits wins. A hard cut never falls inside a tag, an entity or a
UTF-16 surrogate pair, and avoids splitting a combining mark, a ZWJ emoji sequence or
a variation selector from its base when it can.

Tags open at a cut are closed at the end of the part and reopened, with the same
attributes, at the start of the next. Whitespace at a cut is dropped, except that inside
<pre>/<code> the indentation after the last newline is kept. Pure, stdlib only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

TELEGRAM_LIMIT = 4096

_TOKEN = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>"
    r"|&(lt|gt|amp|quot|#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,7});"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})

_TEXT, _OPEN, _CLOSE, _VOID = range(4)
# Boundary ranks after a visible character, best first.
_PARA, _LINE, _SENTENCE, _SPACE, _HARD, _NEVER = range(6)

_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")
_SENTENCE_ENDS = frozenset(".!?…。！？")
_CJK_SENTENCE_ENDS = frozenset("。！？")
_CLOSERS = frozenset("\"')]»”’」』")
_NEWLINES = frozenset("\n\r")
_PRE_TAGS = frozenset(("pre", "code"))


class _Atom(NamedTuple):
    """An indivisible piece of the source: a tag, an entity or one (UTF-16-whole) char."""

    kind: int
    raw: str
    text: str = ""  # the visible text
    width: int = 0  # UTF-16 code units
    tag: str = ""  # lower-case tag name


def escape(text: str) -> str:
    """Escape customer-provided text for Telegram HTML (& < > ")."""
    return text.translate(_ESCAPES)


def visible_length(html: str) -> int:
    """Length of the visible text in UTF-16 code units, as Telegram counts it."""
    return sum(atom.width for atom in _tokenize(html))


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split `text` into well-formed parts of at most `limit` visible UTF-16 units."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if len(text) * 2 <= limit or _utf16_length(text) <= limit:
        return [text]  # raw UTF-16 length bounds the visible one: markup only shrinks
    atoms = _tokenize(text)
    if sum(atom.width for atom in atoms) <= limit:
        return [text]
    ranks = _break_ranks(atoms)
    parts: list[str] = []
    stack: list[_Atom] = []
    out: list[str] = []
    i, budget = 0, limit
    while True:
        cut = _find_cut(atoms, ranks, i, budget)
        end = len(atoms) if cut is None else cut + 1
        content = False
        for atom in atoms[i:end]:
            out.append(atom.raw)
            _apply(stack, atom)
            content = content or (atom.kind == _TEXT and not _is_space(atom.text))
        dropped: list[_Atom] = []
        if cut is not None:
            i = _take_trailing(atoms, end, stack, out, dropped)
        out.extend(f"</{atom.tag}>" for atom in reversed(stack))
        if content:
            parts.append("".join(out))
        out = [atom.raw for atom in stack]
        i = _take_leading(atoms, i, stack, out, dropped) if cut is not None else len(atoms)
        if i >= len(atoms):
            return parts
        indent = _indentation(dropped, stack)
        width = sum(atom.width for atom in indent)
        keep = width <= limit // 2 and width + 2 <= limit  # room left for any char
        out.extend(atom.raw for atom in indent if keep)
        budget = limit - width if keep else limit


def _tokenize(html: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    pos = 0
    for match in _TOKEN.finditer(html):
        _add_text(atoms, html[pos : match.start()])
        pos = match.end()
        name = match.group(2)
        if name is None:
            atoms.append(_entity(match.group(0), match.group(4)))
        elif match.group(1):
            atoms.append(_Atom(_CLOSE, match.group(0), tag=name.lower()))
        else:
            void = match.group(3).rstrip().endswith("/")
            atoms.append(_Atom(_VOID if void else _OPEN, match.group(0), tag=name.lower()))
    _add_text(atoms, html[pos:])
    return atoms


def _entity(raw: str, body: str) -> _Atom:
    if body in _NAMED:
        return _Atom(_TEXT, raw, _NAMED[body], 1)
    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    char = chr(code) if code <= 0x10FFFF else "\ufffd"
    return _Atom(_TEXT, raw, char, 2 if code > 0xFFFF and char != "\ufffd" else 1)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@lru_cache(maxsize=8192)
def _char(char: str) -> _Atom:
    return _Atom(_TEXT, char, char, _utf16_length(char))


def _add_text(atoms: list[_Atom], text: str) -> None:
    if not _SURROGATE.search(text):
        atoms.extend(map(_char, text))
        return
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if "\ud800" <= char <= "\udbff" and i + 1 < n and "\udc00" <= text[i + 1] <= "\udfff":
            char = text[i : i + 2]  # a surrogate pair smuggled in as two code points
        atoms.append(_char(char))
        i += len(char)


def _is_space(text: str) -> bool:
    return text.isspace() and text not in _NO_BREAK_SPACES


def _apply(stack: list[_Atom], atom: _Atom) -> None:
    """Track open tags; a stray closing tag is ignored, a mismatched one closes up to it."""
    if atom.kind == _OPEN:
        stack.append(atom)
    elif atom.kind == _CLOSE:
        for k in range(len(stack) - 1, -1, -1):
            if stack[k].tag == atom.tag:
                del stack[k:]
                return


def _break_ranks(atoms: list[_Atom]) -> list[int]:
    """For each visible atom, how good a boundary right after it is."""
    ranks = [_NEVER] * len(atoms)
    visible = [i for i, atom in enumerate(atoms) if atom.kind == _TEXT]
    k = flag_halves = 0
    while k < len(visible) - 1:
        here, after = atoms[visible[k]], atoms[visible[k + 1]]
        if _is_space(here.text):
            k, flag_halves = k + 1, 0
            continue
        if not _is_space(after.text):
            # Regional indicators pair up into flags: break only after an even count.
            flag_halves = flag_halves + 1 if _is_regional(here.text) else 0
            if here.text in _CJK_SENTENCE_ENDS:
                ranks[visible[k]] = _SENTENCE
            elif _can_hard_break(here.text, after.text) and not (
                flag_halves % 2 and _is_regional(after.text)
            ):
                ranks[visible[k]] = _HARD
            k += 1
            continue
        flag_halves = 0
        run, newlines = k + 1, 0
        while run < len(visible) and _is_space(atoms[visible[run]].text):
            newlines += atoms[visible[run]].text.count("\n")
            run += 1
        if newlines:
            ranks[visible[k]] = _PARA if newlines > 1 else _LINE
        else:
            ranks[visible[k]] = _SENTENCE if _ends_sentence(atoms, visible, k) else _SPACE
        k = run
    return ranks


def _ends_sentence(atoms: list[_Atom], visible: list[int], k: int) -> bool:
    text = atoms[visible[k]].text
    if text in _CLOSERS and k > 0:  # 'He said "stop." Then' ends a sentence too
        text = atoms[visible[k - 1]].text
    return text in _SENTENCE_ENDS


def _can_hard_break(before: str, after: str) -> bool:
    """A cheap grapheme-cluster approximation: don't separate a char from its modifiers."""
    first, last = ord(after[0]), ord(before[-1])
    if last == 0x200D or first in (0x200C, 0x200D):  # zero-width (non-)joiner
        return False
    if unicodedata.category(after[0]) in ("Mn", "Mc", "Me"):  # combining marks
        return False
    if 0xFE00 <= first <= 0xFE0F or 0xE0100 <= first <= 0xE01EF:  # variation selectors
        return False
    if 0x1F3FB <= first <= 0x1F3FF or 0xE0020 <= first <= 0xE007F:  # skin tones, tag chars
        return False
    return not 0x1160 <= first <= 0x11FF  # conjoining Hangul vowels and final consonants


def _is_regional(text: str) -> bool:
    return "\U0001f1e6" <= text <= "\U0001f1ff"


def _find_cut(atoms: list[_Atom], ranks: list[int], start: int, budget: int) -> int | None:
    """Index of the last atom of the next part, or None if everything left fits."""
    width, last_fit = 0, -1
    best = [-1] * _NEVER
    for i in range(start, len(atoms)):
        atom = atoms[i]
        if atom.kind != _TEXT:
            continue
        width += atom.width
        if width > budget:
            break
        last_fit = i
        if ranks[i] < _NEVER:
            best[ranks[i]] = i
    else:
        return None
    for candidate in best:
        if candidate >= 0:
            return candidate
    if last_fit < 0:
        raise ValueError(f"limit {budget} is too small for a single character")
    return last_fit


def _take_trailing(
    atoms: list[_Atom], i: int, stack: list[_Atom], out: list[str], dropped: list[_Atom]
) -> int:
    """After a cut: closing tags stay with this part, whitespace is dropped."""
    while i < len(atoms):
        atom = atoms[i]
        if atom.kind == _CLOSE:
            out.append(atom.raw)
            _apply(stack, atom)
        elif atom.kind == _TEXT and _is_space(atom.text):
            dropped.append(atom)
        else:
            break
        i += 1
    return i


def _take_leading(
    atoms: list[_Atom], i: int, stack: list[_Atom], out: list[str], dropped: list[_Atom]
) -> int:
    """Before the next part's first visible char: keep tags, drop whitespace."""
    while i < len(atoms):
        atom = atoms[i]
        if atom.kind != _TEXT:
            out.append(atom.raw)
            _apply(stack, atom)
        elif _is_space(atom.text):
            dropped.append(atom)
        else:
            break
        i += 1
    return i


def _indentation(dropped: list[_Atom], stack: list[_Atom]) -> list[_Atom]:
    """Inside <pre>/<code>, the whitespace after the last dropped newline is indentation."""
    if not any(atom.tag in _PRE_TAGS for atom in stack):
        return []
    for k in range(len(dropped) - 1, -1, -1):
        if dropped[k].text in _NEWLINES:
            return dropped[k + 1 :]
    return []
