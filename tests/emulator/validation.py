"""Discord's limits on message bodies, so a bot that would be rejected by Discord is rejected here.

Errors use Discord's shape: HTTP 400, ``{"code": 50035, "message": "Invalid Form Body",
"errors": {...}}`` (or ``50006`` "Cannot send an empty message").
"""

from __future__ import annotations

from typing import Any

JSON = Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100


class ApiError(Exception):
    """Raised by route handlers; becomes a Discord-shaped error response."""

    def __init__(self, status: int, message: str, code: int = 0, errors: JSON = None) -> None:
        super().__init__(f"{status} {message} (code {code})")
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def field_error(code: str, message: str) -> JSON:
    """One entry of Discord's nested ``errors`` object."""
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> JSON:
    return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _set(errors: JSON, path: list[str | int], value: JSON) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(str(key), {})
    node[str(path[-1])] = value


def _embed_errors(embed: JSON, index: int, errors: JSON) -> int:
    """Record errors of one embed; return its character count toward the 6000 total."""
    total = 0
    for key, limit in EMBED_LIMITS.items():
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > limit:
            _set(errors, ["embeds", index, key], _too_long(limit))
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_MAX:
        _set(errors, ["embeds", index, "fields"], _too_long(FIELDS_MAX))
    for f_index, fld in enumerate(fields):
        name, value = str(fld.get("name", "")), str(fld.get("value", ""))
        total += len(name) + len(value)
        if len(name) > FIELD_NAME_MAX:
            _set(errors, ["embeds", index, "fields", f_index, "name"], _too_long(FIELD_NAME_MAX))
        if len(value) > FIELD_VALUE_MAX:
            _set(errors, ["embeds", index, "fields", f_index, "value"], _too_long(FIELD_VALUE_MAX))
    footer = (embed.get("footer") or {}).get("text") or ""
    total += len(footer)
    if len(footer) > FOOTER_TEXT_MAX:
        _set(errors, ["embeds", index, "footer", "text"], _too_long(FOOTER_TEXT_MAX))
    author = (embed.get("author") or {}).get("name") or ""
    total += len(author)
    if len(author) > AUTHOR_NAME_MAX:
        _set(errors, ["embeds", index, "author", "name"], _too_long(AUTHOR_NAME_MAX))
    return total


def _component_errors(components: JSON, errors: JSON) -> None:
    if len(components) > ACTION_ROWS_MAX:
        _set(errors, ["components"], _too_long(ACTION_ROWS_MAX))
    for r_index, row in enumerate(components):
        for c_index, comp in enumerate(row.get("components") or []):
            label = comp.get("label") or ""
            if len(label) > BUTTON_LABEL_MAX:
                path: list[str | int] = ["components", r_index, "components", c_index, "label"]
                _set(errors, path, _too_long(BUTTON_LABEL_MAX))
            custom_id = comp.get("custom_id") or ""
            if len(custom_id) > CUSTOM_ID_MAX:
                path = ["components", r_index, "components", c_index, "custom_id"]
                _set(errors, path, _too_long(CUSTOM_ID_MAX))


def validate_message(body: JSON, *, has_files: bool = False, partial: bool = False) -> None:
    """Raise :class:`ApiError` if Discord would reject this create (or, with ``partial``, edit)."""
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid Form Body", 50035, {"_errors": [{"code": "DICT_TYPE"}]})
    errors: JSON = {}
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_MAX:
        errors["content"] = _too_long(CONTENT_MAX)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors["embeds"] = _too_long(EMBEDS_MAX)
    total = sum(_embed_errors(e, i, errors) for i, e in enumerate(embeds))
    if total > EMBED_TOTAL_MAX:
        message = "Embed size exceeds maximum size of 6000"
        _set(errors, ["embeds"], field_error("MAX_EMBED_SIZE_EXCEEDED", message))
    _component_errors(body.get("components") or [], errors)
    if errors:
        raise ApiError(400, "Invalid Form Body", 50035, errors)
    if partial:
        return
    flags = int(body.get("flags") or 0)
    is_v2 = bool(flags & (1 << 15))
    parts = (content, embeds, body.get("components"), body.get("poll"), body.get("sticker_ids"))
    if not (any(parts) or has_files or is_v2):
        raise ApiError(400, "Cannot send an empty message", 50006)


def validate_choices(data: JSON) -> None:
    choices = (data or {}).get("choices") or []
    errors: JSON = {}
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        errors["choices"] = _too_long(AUTOCOMPLETE_CHOICES_MAX)
    for index, choice in enumerate(choices):
        if len(str(choice.get("name", ""))) > CHOICE_NAME_MAX:
            _set(errors, ["choices", index, "name"], _too_long(CHOICE_NAME_MAX))
    if errors:
        raise ApiError(400, "Invalid Form Body", 50035, {"data": errors})
