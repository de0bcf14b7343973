"""`python -m bot` is the same as the `nudge` command."""

from bot.cli import main

raise SystemExit(main())
