"""The Telegram customer channel, built on aiogram 3."""
