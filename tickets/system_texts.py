"""Texts the system writes on a case, said in the reader's language.

A subject the system gives a case ("Repair: …", "Following up on your request …") or a note it
leaves on one is stored twice: as the text, in the language of whoever it was written for (what
search, exports, the API and every older reader see), and as a key with its parameters
(``{"key": …, "params": {…}}``), from which each page and message says it again in its own
reader's language. Each app registers its texts in its ``AppConfig.ready``, as it registers its
verbs, so the hub imports no workflow app.

A row without a key (typed by a person, or written before keys were kept) shows its stored text,
as does a key no longer registered or parameters that do not fit the text: nothing a page reads
from the database can make it fail.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.functional import Promise

SystemText = Callable[[Mapping[str, Any]], str]

_texts: dict[str, SystemText] = {}


def register_system_texts(texts: Mapping[str, SystemText | Promise]) -> None:
    """Register ``key -> text``: a lazy translation with ``%(name)s`` placeholders, or a function
    of the parameters that returns the text in the active language."""
    for key, text in texts.items():
        _texts[key] = text if callable(text) and not isinstance(text, Promise) else _formatted(text)


def _formatted(text: Promise) -> SystemText:
    return lambda params: str(text) % dict(params)


def system_text_source(key: str, **params: Any) -> dict[str, Any]:
    """What to store beside the text: the key and its JSON parameters."""
    return {"key": key, "params": params}


def system_text(source: object, stored: str) -> str:
    """The text in the active language, or ``stored`` when the source cannot say it."""
    if not isinstance(source, Mapping):
        return stored
    render = _texts.get(str(source.get("key") or ""))
    params = source.get("params")
    if render is None or not isinstance(params, Mapping):
        return stored
    try:
        return render(params)
    except (KeyError, TypeError, ValueError):
        return stored
