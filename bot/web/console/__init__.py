"""The web agent console at `/console`: queue, my chats, conversation, supervisor view.

Mounted on Nudge's aiohttp app by `setup_console`; see docs/console.md.
"""

from bot.web.console.setup import setup_console

__all__ = ["setup_console"]
