"""Plain domain objects, events and ports. Imports nothing from the rest of `bot`."""
