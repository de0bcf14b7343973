"""Pushing updates to a bot's webhook: in order, one at a time, retrying with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp

from bot.fake_telegram.models import JsonDict, WebhookDelivery
from bot.fake_telegram.state import BotState, WebhookConfig, is_allowed
from bot.fake_telegram.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDeliverer:
    """One task per bot with a webhook. A non-2xx answer or a connection error is retried
    after ``retry_base`` seconds, doubling up to ``retry_max``, before the next update goes."""

    def __init__(
        self,
        world: World,
        *,
        retry_base: float = 0.05,
        retry_max: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.world = world
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.timeout = timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def start(self, bot: BotState) -> None:
        task = self._tasks.get(bot.token)
        if task is None or task.done():
            name = f"fake-telegram-webhook-{bot.info.id}"
            self._tasks[bot.token] = asyncio.create_task(self._run(bot), name=name)

    async def stop(self, bot: BotState) -> None:
        task = self._tasks.pop(bot.token, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver_once(self, bot: BotState, update: JsonDict) -> int:
        """POST one update now (outside the queue); the HTTP status, 0 on connection error."""
        hook = bot.webhook
        if hook is None:
            raise RuntimeError(f"bot {bot.info.username} has no webhook set")
        return await self._post(bot, hook, update)

    async def _run(self, bot: BotState) -> None:
        queue = bot.updates
        delay = self.retry_base
        while bot.webhook is not None:
            await queue.signal.wait_for(lambda: bool(queue.items) or bot.webhook is None, None)
            hook = bot.webhook
            if hook is None:
                return
            update = queue.items[0]
            if not is_allowed(update, hook.allowed_updates):
                queue.items.popleft()
                continue
            status = await self._post(bot, hook, update)
            if 200 <= status < 300:
                queue.confirm_first(update)
                await self.world.observed.notify()
                delay = self.retry_base
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    async def _post(self, bot: BotState, hook: WebhookConfig, update: JsonDict) -> int:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        error: str | None = None
        try:
            async with self._client().post(hook.url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
        if not 200 <= status < 300:
            hook.last_error_date = self.world.now()
            hook.last_error_message = error or f"Wrong response from the webhook: {status}"
        update_id = update.get("update_id")
        delivery = WebhookDelivery(
            update_id=update_id if isinstance(update_id, int) else None,
            status=status,
            at=time.monotonic(),
            error=error,
        )
        bot.deliveries.append(delivery)
        await self.world.observed.notify()
        return status
