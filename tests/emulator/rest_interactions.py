"""Interaction callbacks, follow-ups and ``@original`` (the interaction webhook)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import payloads
from .records import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    AUTOCOMPLETE,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    UPDATE_MESSAGE,
    InteractionRecord,
    StoredMessage,
)
from .store import (
    MESSAGE_TYPE_REPLY,
    create_message,
    echo_create,
    echo_delete,
    echo_update,
    edit_message,
    message_json,
)
from .validation import ApiError, field_error, validate_choices, validate_message

if TYPE_CHECKING:
    from .rest import Request, Result, Router
    from .server import DiscordEmulator

JSON = Any
PONG = 1
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20
MESSAGE_TYPE_CONTEXT_MENU_COMMAND = 23

#: Which callback types Discord accepts for which interaction types.
VALID_CALLBACKS = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}

UNKNOWN_INTERACTION = (404, "Unknown interaction", 10062)
ALREADY_ACKNOWLEDGED = (400, "Interaction has already been acknowledged.", 40060)
UNKNOWN_WEBHOOK = (404, "Unknown Webhook", 10015)
INVALID_WEBHOOK_TOKEN = (401, "Invalid Webhook Token", 50027)
UNKNOWN_MESSAGE = (404, "Unknown Message", 10008)


class InteractionRoutes:
    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator

    def register(self, router: Router) -> None:
        r = router.add
        r("POST", "/interactions/{interaction_id}/{token}/callback", self.callback)
        r("POST", "/webhooks/{app_id}/{token}", self.followup)
        r("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message)
        r("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self.edit_webhook_message)
        r("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self.delete_webhook_message)

    # ------------------------------------------------------------------ helpers

    def _decorate(self, message: StoredMessage, record: InteractionRecord) -> None:
        app_id = self.emu.world.application_id
        message.webhook_id = app_id
        message.application_id = app_id
        message.interaction_id = record.id
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": payloads.user_payload(record.user),
            "authorizing_integration_owners": record.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        data = record.payload.get("data") or {}
        if record.type == APPLICATION_COMMAND:
            metadata["name"] = data.get("name")
            metadata["command_type"] = data.get("type", 1)
        if record.original is not None and message is not record.original:
            metadata["original_response_message_id"] = str(record.original.id)
        message.interaction_metadata = metadata
        if message.type != MESSAGE_TYPE_REPLY and record.type == APPLICATION_COMMAND:
            is_slash = data.get("type", 1) == 1
            message.type = (
                MESSAGE_TYPE_CHAT_INPUT_COMMAND if is_slash else MESSAGE_TYPE_CONTEXT_MENU_COMMAND
            )

    def _channel(self, record: InteractionRecord) -> Any:
        channel = self.emu.world.get_channel(record.channel_id or 0)
        if channel is None:
            raise ApiError(404, "Unknown Channel", 10003)
        return channel

    def _by_token(self, req: Request) -> InteractionRecord:
        record = self.emu._interactions_by_token.get(req.params["token"])
        if record is None or req.params["app_id"] != str(self.emu.world.application_id):
            raise ApiError(*UNKNOWN_WEBHOOK)
        if record.expired:
            raise ApiError(*INVALID_WEBHOOK_TOKEN)
        if not record.acknowledged:
            raise ApiError(*UNKNOWN_WEBHOOK)
        return record

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> StoredMessage:
        if message_id == "@original":
            if record.original is None or record.original_deleted:
                raise ApiError(*UNKNOWN_MESSAGE)
            return record.original
        for message in [record.original, *record.followups]:
            if message is not None and str(message.id) == message_id and not message.deleted:
                return message
        raise ApiError(*UNKNOWN_MESSAGE)

    # ------------------------------------------------------------------ callback

    async def callback(self, req: Request) -> Result:
        emu = self.emu
        record = emu.interactions.get(req.int_param("interaction_id"))
        if record is None or record.token != req.params["token"] or record.expired:
            raise ApiError(*UNKNOWN_INTERACTION)
        if record.acknowledged:
            raise ApiError(*ALREADY_ACKNOWLEDGED)
        deadline = emu.interaction_deadline
        if deadline is not None and time.monotonic() - record.dispatched_at > deadline:
            record.expired = True
            raise ApiError(*UNKNOWN_INTERACTION)
        body = req.json if isinstance(req.json, dict) else {}
        ctype = int(body.get("type", 0))
        data = body.get("data") or {}
        if ctype not in VALID_CALLBACKS.get(record.type, set()):
            reason = f"Callback type {ctype} is invalid for interaction type {record.type}"
            error = field_error("INTERACTION_CALLBACK_TYPE_INVALID", reason)
            raise ApiError(400, "Invalid Form Body", 50035, {"type": error})

        message: StoredMessage | None = None
        if ctype == CHANNEL_MESSAGE_WITH_SOURCE:
            channel, bot = self._channel(record), emu.world.bot_user
            message = create_message(emu, channel, bot, data, req.files, source="interaction")
            self._decorate(message, record)
            record.original = message
        elif ctype == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            channel, bot = self._channel(record), emu.world.bot_user
            message = create_message(
                emu, channel, bot, {}, [], source="interaction", validate=False
            )
            message.flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message.bodies = []  # so ``payload`` is the body that fills it in
            self._decorate(message, record)
            record.original = message
        elif ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            clicked = emu.get_message(int((record.payload.get("message") or {}).get("id", 0)))
            if ctype == UPDATE_MESSAGE:
                if clicked is None:
                    raise ApiError(*UNKNOWN_MESSAGE)
                edit_message(emu, clicked, data, req.files)
                echo_update(emu, clicked)
            record.original = clicked
        elif ctype == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            validate_choices(data)
        elif ctype == MODAL and (not data.get("custom_id") or not data.get("title")):
            error = field_error("BASE_TYPE_REQUIRED", "This field is required")
            raise ApiError(400, "Invalid Form Body", 50035, {"data": error})

        record.callbacks.append(body)
        if message is not None:
            echo_create(emu, message)
        emu._notify()
        if not req.flag("with_response"):
            return 204, None
        shown = record.original if ctype in (4, 5, 7) else None
        info: JSON = {"id": str(record.id), "type": record.type}
        if shown is not None:
            info["response_message_id"] = str(shown.id)
            info["response_message_loading"] = shown.loading
            info["response_message_ephemeral"] = shown.ephemeral
        resource: JSON = {"type": ctype}
        if shown is not None:
            resource["message"] = message_json(emu, shown)
        return 200, {"interaction": info, "resource": resource}

    # ------------------------------------------------------------------ webhook (follow-ups)

    async def followup(self, req: Request) -> Result:
        emu = self.emu
        record = self._by_token(req)
        body = req.json if isinstance(req.json, dict) else {}
        validate_message(body, has_files=bool(req.files))
        original = record.original
        thinking = record.response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        if thinking and original is not None and original.loading:
            # The first follow-up after a "thinking" defer replaces the loading message; the
            # defer decided whether it is ephemeral.
            message = edit_message(emu, original, body, req.files)
            message.edited = False
            record.followups.append(message)
            echo_update(emu, message)
        else:
            message = create_message(
                emu, self._channel(record), emu.world.bot_user, body, req.files, source="followup"
            )
            self._decorate(message, record)
            record.followups.append(message)
            echo_create(emu, message)
        emu._notify()
        if req.flag("wait"):
            return 200, message_json(emu, message)
        return 204, None

    async def get_webhook_message(self, req: Request) -> Result:
        record = self._by_token(req)
        return 200, message_json(self.emu, self._webhook_message(record, req.params["message_id"]))

    async def edit_webhook_message(self, req: Request) -> Result:
        record = self._by_token(req)
        message = self._webhook_message(record, req.params["message_id"])
        edit_message(self.emu, message, req.json, req.files)
        if message is record.original:
            record.original_edits.append(req.json)
        echo_update(self.emu, message)
        self.emu._notify()
        return 200, message_json(self.emu, message)

    async def delete_webhook_message(self, req: Request) -> Result:
        record = self._by_token(req)
        message = self._webhook_message(record, req.params["message_id"])
        message.deleted = True
        if message is record.original:
            record.original_deleted = True
        echo_delete(self.emu, message)
        self.emu._notify()
        return 204, None
