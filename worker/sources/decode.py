"""Bytes to text: detect the encoding of a document instead of assuming UTF-8.

Order: a byte-order mark decides; else strict UTF-8; else the best guess of
charset-normalizer, with the GB2312/GBK family widened to GB18030 (its
superset, so a guess of the narrower one never loses characters).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDER_ENCODING = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030"}
#: Share of control characters above which decoded "text" is really binary.
MAX_CONTROL_RATIO = 0.02


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can tell."""


def decode_text(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` or raise ``DecodeError`` saying why not."""
    if not data.strip():
        raise DecodeError("empty file")
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), encoding)
            except UnicodeDecodeError as e:
                raise DecodeError(f"invalid {encoding} after its byte-order mark: {e}") from e
    if b"\x00" in data:
        raise DecodeError("binary content (NUL bytes, no byte-order mark)")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guess = from_bytes(data).best()
    if guess is None:
        raise DecodeError("binary content (no text encoding fits)")
    encoding = WIDER_ENCODING.get(guess.encoding, guess.encoding)
    try:
        return _checked(data.decode(encoding), encoding)
    except UnicodeDecodeError as e:  # pragma: no cover - charset-normalizer checked it
        raise DecodeError(f"undecodable as {encoding}: {e}") from e


def _checked(text: str, encoding: str) -> tuple[str, str]:
    text = text.lstrip("\ufeff")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if text and controls / len(text) > MAX_CONTROL_RATIO:
        raise DecodeError("binary content (control characters)")
    if not text.strip():
        raise DecodeError("empty file")
    return text, encoding
