"""Limits on what one template render may build and do, so that neither a marketer's template nor
a customer's data can make a worker allocate gigabytes or spin forever.

`limits.py` holds the numbers, the per-render budget and the operator checks (shared with funnel
conditions), `estimates.py` sizes a call's result before it is made, `environment.py` is the
sandbox that applies them while rendering, `static_check.py` finds what `nudge check` can see
without rendering. `bot/rendering.py` is the one place that renders message text.
"""
