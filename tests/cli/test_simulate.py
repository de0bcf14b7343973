"""`nudge simulate`: a funnel's timeline for one contact, rendered, on a virtual clock."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import nudge

ANN = """\
name: Ann <b>
language: ru
timezone: Europe/Chisinau
event_data:
  cart_abandoned:
    cart: {total: 80, currency: EUR, url: "https://shop.example.com/cart/42", items: [{name: Tea}]}
"""


def test_the_abandoned_cart_timeline(tmp_path: Path) -> None:
    contact = tmp_path / "ann.yaml"
    contact.write_text(ANN)
    result = nudge(
        "simulate", "funnels/abandoned_cart.yaml", "--contact", str(contact),
        "--events", "cart_abandoned@0,order_paid@26h", "--start", "2026-01-05T18:30",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "abandoned_cart: Abandoned cart for Ann <b> (Europe/Chisinau)"
    assert "Mon 2026-01-05 20:30 Europe/Chisinau (+0h00m)  entered abandoned_cart" in lines
    assert any("[reminder] delayed (quiet hours) until Tue 2026-01-06 09:00" in x for x in lines)
    sent = lines.index(next(x for x in lines if "[reminder] send funnel_cart_reminder" in x))
    assert lines[sent].startswith("Tue 2026-01-06 09:00")
    assert "Ann &lt;b&gt;" in lines[sent + 1]  # the name is escaped, never markup
    assert "-> https://shop.example.com/cart/42" in lines[sent + 2]
    assert lines[-1].endswith("exited: event order_paid")


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    result = nudge("simulate", "funnels/abandoned_cart.yaml", "--events", "cart_abandoned")
    assert result.returncode == 1
    assert "'cart_abandoned': write NAME@OFFSET, like order_paid@26h" in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntrigger: {event: go}\nsteps:\n  - id: a\n    wait: 2 hours\n")
    result = nudge("simulate", str(broken))
    assert result.returncode == 1 and "broken.yaml:5:11" in result.stdout
