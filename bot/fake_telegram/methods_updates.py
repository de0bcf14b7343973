"""Bot API methods about the bot and its updates: getMe, getUpdates, webhooks."""

from __future__ import annotations

import re

from bot.fake_telegram.errors import bad_request, conflict
from bot.fake_telegram.models import JsonDict
from bot.fake_telegram.params import Params, optional_int, optional_str
from bot.fake_telegram.state import BotState, WebhookConfig, allowed_set
from bot.fake_telegram.world import Handler, World

WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def get_me(world: World, bot: BotState, params: Params) -> JsonDict:
    data = bot.user.to_dict()
    data.update(
        can_join_groups=True,
        can_read_all_group_messages=False,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return data


def _allowed_param(params: Params) -> frozenset[str] | None:
    value = params.get("allowed_updates")
    if value is not None and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        raise bad_request("can't parse allowed updates JSON object")
    return allowed_set(value)


async def get_updates(world: World, bot: BotState, params: Params) -> list[JsonDict]:
    """Long polling: wait up to ``timeout`` s for updates; a newer poll ends this one (409)."""
    if bot.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    offset = optional_int(params, "offset")
    limit = min(max(optional_int(params, "limit") or 100, 1), 100)
    timeout = max(optional_int(params, "timeout") or 0, 0)
    if "allowed_updates" in params:
        bot.allowed_updates = _allowed_param(params)
    queue = bot.updates
    if queue.confirm(offset):
        await world.observed.notify()
    bot.poll_generation += 1
    generation = bot.poll_generation
    await queue.signal.notify()

    def ready() -> bool:
        if bot.poll_generation != generation or world.closing or bot.webhook is not None:
            return True
        return bool(queue.pending(1, bot.allowed_updates))

    if timeout and not ready():
        bot.polls_waiting += 1
        await world.observed.notify()
        try:
            await queue.signal.wait_for(ready, timeout)
        finally:
            bot.polls_waiting -= 1
    if bot.poll_generation != generation:
        raise conflict(TERMINATED)
    if bot.webhook is not None:
        return []
    return queue.pending(limit, bot.allowed_updates)


async def set_webhook(world: World, bot: BotState, params: Params) -> bool:
    url = optional_str(params, "url") or ""
    if not url:
        await _remove_webhook(world, bot, params)
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = optional_str(params, "secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if "allowed_updates" in params:
        allowed = _allowed_param(params)
    else:
        allowed = bot.webhook.allowed_updates if bot.webhook else bot.allowed_updates
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    max_connections = optional_int(params, "max_connections") or 40
    bot.webhook = WebhookConfig(url, secret, allowed, max_connections)
    await bot.updates.signal.notify()  # a waiting long poll returns []
    if world.webhooks is not None:
        world.webhooks.start(bot)
    return True


async def _remove_webhook(world: World, bot: BotState, params: Params) -> None:
    if bot.webhook is not None and world.webhooks is not None:
        bot.webhook = None
        await world.webhooks.stop(bot)
    bot.webhook = None
    if params.get("drop_pending_updates"):
        bot.updates.clear()


async def delete_webhook(world: World, bot: BotState, params: Params) -> bool:
    await _remove_webhook(world, bot, params)
    return True


async def get_webhook_info(world: World, bot: BotState, params: Params) -> JsonDict:
    hook = bot.webhook
    info: JsonDict = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates.items),
    }
    if hook is None:
        return info
    info["max_connections"] = hook.max_connections
    info["ip_address"] = "127.0.0.1"
    if hook.allowed_updates is not None:
        info["allowed_updates"] = sorted(hook.allowed_updates)
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message or ""
    return info


async def accept(world: World, bot: BotState, params: Params) -> bool:
    """Methods the fake accepts without keeping anything (logOut, close...)."""
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "logOut": accept,
    "close": accept,
}
