"""Every text in the code and templates has an English translation (Indonesian is the source language)."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _source_messages() -> set:
    found = set()
    for folder, method_map in (
        (ROOT / "webapp", [("**.py", "python")]),
        (ROOT / "templates", [("**.html", babel_extract)]),
    ):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(folder), method_map=method_map, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _key(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _is_translated(message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return all(s.strip() for s in strings)


def test_every_message_has_an_english_translation():
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {_key(m.id) for m in catalog if m.id and _is_translated(m)}
    source = _source_messages()
    assert len(source) > 200  # the extraction itself works
    missing = sorted(source - translated)
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing[:10]}"


def test_translations_keep_their_placeholders():
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[0])), message.id
