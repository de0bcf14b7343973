"""Human hand-off: who gets a chat, when people answer, what counts as asking for one.

The modules here that hold policy (`hours`, `triggers`, `routing`, `sla`, `policy`) are pure:
no I/O, no SQL, no clock of their own. `HandoffPolicy.from_settings` builds them once from the
`handoff:` section of `config.yaml`, and the hand-off service asks them questions.
"""
