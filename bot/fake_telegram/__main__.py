"""``python -m bot.fake_telegram --port 8081 --token 123:ABC``."""

from bot.fake_telegram.cli import main

raise SystemExit(main())
