"""The agents' Telegram desk: a second bot (python-telegram-bot) in the agents' supergroup."""
