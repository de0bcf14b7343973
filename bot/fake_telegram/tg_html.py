"""Telegram's HTML parse mode: validation, plain text and entities.

Follows the rules of https://core.telegram.org/bots/api#html-style: only the supported tags,
``&lt; &gt; &amp; &quot;`` and numeric character references are decoded, any other ``&`` is
literal, every ``<`` starts a tag. Errors carry Telegram's wording (with UTF-8 byte offsets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.fake_telegram.entities import Entity, sort_entities, utf16_len

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_SPECIAL = re.compile(r"[<&]")
_TAG_NAME = re.compile(r"[^\s>]*")
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(
    r"""\s*([^\s=>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9.\-]*)))?""",
)


class HtmlError(ValueError):
    """Malformed Telegram HTML; ``str(error)`` is the text after "can't parse entities: "."""


@dataclass(slots=True)
class ParsedText:
    """Result of parsing: the visible text and its entities (UTF-16 offsets)."""

    text: str
    entities: list[Entity] = field(default_factory=list)


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int
    attributes: dict[str, str]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit(self, piece: str) -> None:
        if piece:
            self.out.append(piece)
            self.length += utf16_len(piece)

    def run(self) -> ParsedText:
        pos = 0
        source = self.source
        while (match := _SPECIAL.search(source, pos)) is not None:
            self.emit(source[pos : match.start()])
            if match.group() == "&":
                pos = self.char_ref(match.start())
            elif source.startswith("</", match.start()):
                pos = self.end_tag(match.start())
            else:
                pos = self.start_tag(match.start())
        self.emit(source[pos:])
        if self.stack:
            name = self.stack[-1].name
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{name}"')
        return ParsedText("".join(self.out), sort_entities(self.entities))

    def char_ref(self, index: int) -> int:
        ref = _CHAR_REF.match(self.source, index)
        if ref is None:
            self.emit("&")
            return index + 1
        self.emit(_decode_ref(ref))
        return ref.end()

    def start_tag(self, index: int) -> int:
        offset = self.byte_offset(index)
        name_match = _TAG_NAME.match(self.source, index + 1)
        assert name_match is not None  # the pattern also matches the empty string
        name = name_match.group().lower()
        if name not in _ENTITY_TYPES:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {offset}')
        close = self.source.find(">", name_match.end())
        if close < 0:
            raise HtmlError(f"Unclosed start tag at byte offset {offset}")
        attributes = _parse_attributes(self.source[name_match.end() : close], name, offset)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        self.stack.append(_OpenTag(name, self.length, attributes))
        return close + 1

    def end_tag(self, index: int) -> int:
        close = self.source.find(">", index)
        offset = self.byte_offset(index)
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {offset}")
        if close < 0:
            raise HtmlError(f"Unclosed end tag at byte offset {offset}")
        name = self.source[index + 2 : close].strip().lower()
        opened = self.stack.pop()
        if name and name != opened.name:
            raise HtmlError(
                f'Unmatched end tag at byte offset {offset}, expected "</{opened.name}>", '
                f'found "</{name}>"'
            )
        self.close_entity(opened)
        return close + 1

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.length - tag.offset
        if length <= 0:
            return
        entity: Entity = {"type": _ENTITY_TYPES[tag.name], "offset": tag.offset, "length": length}
        attrs = tag.attributes
        if tag.name == "a":
            entity["url"] = attrs.get("href", "")
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif tag.name == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and attrs.get("class", "").startswith("language-"):
            entity["language"] = attrs["class"][len("language-") :]
        if tag.name == "pre":
            self.merge_code_into_pre(entity)
        self.entities.append(entity)

    def merge_code_into_pre(self, pre: Entity) -> None:
        if not self.entities:
            return
        last = self.entities[-1]
        same_span = last["offset"] == pre["offset"] and last["length"] == pre["length"]
        if last["type"] == "code" and same_span:
            self.entities.pop()
            if "language" in last:
                pre["language"] = last["language"]


def _decode_ref(ref: re.Match[str]) -> str:
    decimal, hexadecimal, named = ref.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def _parse_attributes(text: str, tag: str, offset: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    pos = 0
    while pos < len(text) and not text[pos:].isspace():
        match = _ATTRIBUTE.match(text, pos)
        if match is None or match.end() == pos:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        name = match.group(1).lower()
        values = match.group(2, 3, 4)
        bare_allowed = tag == "blockquote" and name == "expandable"
        if all(value is None for value in values) and not bare_allowed:
            raise HtmlError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {offset}'
            )
        value = next((v for v in values if v is not None), "")
        attributes[name] = _decode_value(value)
        pos = match.end()
    return attributes


def _decode_value(value: str) -> str:
    return _CHAR_REF.sub(_decode_ref, value) if "&" in value else value


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text + entities; raise :class:`HtmlError` if malformed."""
    if "<" not in source and "&" not in source:
        return ParsedText(source)
    return _Parser(source).run()
