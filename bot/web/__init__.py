"""The aiohttp application: webhook, web chat, health. The only importer of aiohttp's server."""
