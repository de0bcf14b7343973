"""The dashboard in headless Chromium (Debian's /usr/bin/chromium through Playwright): the
charts render under the console's CSP, their bars have the right sizes on screen, and a
screenshot of them holds the chart colours (decoded by a small PNG reader, no imaging library).

No sleeping: every wait is one of Playwright's auto-retrying `expect` assertions.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, KbDecisionKind
from bot.storage import Storage
from tests.analytics.seed import FIRST_DAY, LAST_DAY, NOW
from tests.web.console.harness import PASSWORD, Site, needs_browser
from tests.web.console.test_console_dashboard import open_seeded_site

try:
    from playwright.async_api import expect
except ImportError:  # skipped by needs_browser
    expect = None  # type: ignore[assignment]

# The chart colours of console.css (.dashboard custom properties).
BAR, WORST, CSAT, WAIT = (47, 111, 237), (217, 72, 15), (43, 154, 102), (112, 72, 232)
WEEK_LABEL = f"{FIRST_DAY} .. {LAST_DAY} (Europe/Chisinau)"


@dataclass(frozen=True, slots=True)
class Image:
    width: int
    height: int
    pixels: list[tuple[int, int, int]]  # row by row, alpha dropped

    def count(self, colour: tuple[int, int, int], tolerance: int = 3) -> int:
        return sum(
            1
            for p in self.pixels
            if all(abs(a - b) <= tolerance for a, b in zip(p, colour, strict=True))
        )


def read_png(data: bytes) -> Image:
    """An 8-bit RGB or RGBA PNG (what Chromium writes), unfiltered row by row."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    if depth != 8 or colour_type not in (2, 6) or header[12] != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}")
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous,
                         channels)  # fmt: skip
        pixels.extend((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels))
        previous = line
    return Image(width, height, pixels)


def _unfilter(kind: int, line: bytearray, above: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = above[i]
        corner = above[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
    return line


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
    return (left, up, corner)[distances.index(min(distances))]


def test_the_png_reader_reads_every_filter() -> None:
    """A 3x2 RGBA image written with filters Sub and Paeth, and one with None and Up."""
    rows = [[(10, 20, 30, 255), (40, 50, 60, 255), (70, 80, 90, 255)],
            [(15, 25, 35, 255), (45, 55, 65, 255), (75, 85, 95, 255)]]  # fmt: skip
    flat = [bytes(v for px in row for v in px) for row in rows]
    for filters in ((1, 4), (0, 2), (3, 3)):
        raw = b"".join(
            bytes([kind]) + _filtered(kind, line, flat[i - 1] if i else bytes(len(line)))
            for i, (kind, line) in enumerate(zip(filters, flat, strict=True))
        )
        image = read_png(_png(3, 2, raw))
        assert image.pixels == [px[:3] for row in rows for px in row], filters
        assert image.count((45, 55, 65)) == 1 and image.count((44, 55, 65), tolerance=0) == 0


def _filtered(kind: int, line: bytes, above: bytes) -> bytes:
    out = bytearray()
    for i, value in enumerate(line):
        left = line[i - 4] if i >= 4 else 0
        corner = above[i - 4] if i >= 4 else 0
        guess = {0: 0, 1: left, 2: above[i], 3: (left + above[i]) // 2,
                 4: _paeth(left, above[i], corner)}[kind]  # fmt: skip
        out.append((value - guess) & 0xFF)
    return bytes(out)


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))


@pytest.fixture
async def seeded(sqlite_storage: Storage, clock: FakeClock) -> AsyncIterator[Site]:
    site = await open_seeded_site(sqlite_storage, clock)
    try:
        yield site
    finally:
        assert site.runner is not None
        await site.runner.cleanup()


async def _open_the_week(page: Any, site: Site) -> list[str]:
    """Log in as the supervisor, follow the nav link, pick the seeded week with the date
    form; the console errors seen on the way (CSP refusals are console errors)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(site.console + "/")
    await page.get_by_label("Agent name").fill("boss")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    await page.get_by_label("From").fill(FIRST_DAY)
    await page.get_by_label("To", exact=True).fill(LAST_DAY)
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator(".period-label")).to_have_text(WEEK_LABEL)
    return errors


async def _box(locator: Any) -> dict[str, float]:
    box = await locator.bounding_box()
    assert box is not None
    return dict(box)


@needs_browser
async def test_the_charts_render_with_the_right_sizes_and_colours(
    seeded: Site, page: Any, tmp_path: Path
) -> None:
    # Tall enough for the whole dashboard: the console scrolls inside <main>, not the page.
    await page.set_viewport_size({"width": 1280, "height": 2000})
    errors = await _open_the_week(page, seeded)
    funnel = page.locator('[data-funnel="welcome"] svg')
    bars = funnel.locator("rect.bar")
    await expect(bars).to_have_count(3)
    await expect(funnel.locator(".worst .bar")).to_have_count(1)
    hello, offer, reminder = [await _box(bars.nth(i)) for i in range(3)]
    # 6, 4 and 1 of the 6 who entered, centred on one axis: the funnel narrows.
    assert offer["width"] / hello["width"] == pytest.approx(4 / 6, rel=0.01)
    assert reminder["width"] / hello["width"] == pytest.approx(1 / 6, rel=0.02)
    centres = [b["x"] + b["width"] / 2 for b in (hello, offer, reminder)]
    assert max(centres) - min(centres) < 1
    assert hello["y"] < offer["y"] < reminder["y"]
    columns = page.locator('[data-chart="csat"] rect.column')
    await expect(columns).to_have_count(3)
    full, also_full, zero = [await _box(columns.nth(i)) for i in range(3)]
    assert full["height"] == pytest.approx(also_full["height"]) and full["height"] > 100
    assert zero["height"] < 1  # 0 % on the 4th: only its label shows
    assert await page.evaluate("document.querySelectorAll('[style]').length") == 0
    # Under the chart, what became of the funnel's messages; per step in the data table.
    card = page.locator('[data-funnel="welcome"]')
    await expect(card.locator("p.delivery")).to_be_visible()
    await expect(card.locator("p.delivery")).to_contain_text("11 queued: 3 delivered, 3 failed")
    await card.get_by_text("Data table").click()
    offer = card.get_by_role("row", name="offer")
    await expect(offer.get_by_role("cell").nth(4)).to_have_text("1")  # delivered
    await expect(offer).to_contain_text("403: Forbidden: bot was blocked by the user 1")

    shot = read_png(await page.screenshot(clip=await _box(funnel)))
    blue, orange = shot.count(BAR), shot.count(WORST)
    # hello and reminder are blue, offer (the worst) orange: areas 6 + 1 against 4.
    assert blue > 5000 and orange / blue == pytest.approx(4 / 7, rel=0.05)
    for chart, colour in (("csat", CSAT), ("first_response", WAIT)):
        region = await _box(page.locator(f'[data-chart="{chart}"] svg'))
        shot = read_png(await page.screenshot(clip=region))
        assert shot.count(colour) > 100, chart
    await page.screenshot(path=str(tmp_path / "dashboard.png"))  # for a person to look at
    assert errors == []


@needs_browser
async def test_the_presets_and_a_bad_date_in_the_browser(seeded: Site, page: Any) -> None:
    errors = await _open_the_week(page, seeded)
    await page.get_by_role("button", name="90 days").click()
    await expect(page.get_by_role("heading", name="CSAT per week")).to_be_visible()
    await expect(page.get_by_role("button", name="90 days")).to_have_attribute(
        "aria-current", "true"
    )
    assert page.url.endswith("/console/dashboard?since=90d")
    await page.goto(seeded.console + "/dashboard?from=2026-11-08&to=2026-11-01")
    await expect(page.get_by_role("alert")).to_have_text("To 2026-11-01 is before From 2026-11-08")
    await expect(page.locator("svg")).to_have_count(0)
    # The 400 answer itself is logged by Chromium as a failed resource; nothing else is.
    assert [e for e in errors if "status of 400" not in e] == []


@needs_browser
async def test_a_board_of_the_present_shows_new_data_a_minute_later(
    seeded: Site, page: Any, sqlite_storage: Storage
) -> None:
    """The page's timers run on Playwright's clock: a minute passes without waiting one. The
    board is fetched again and swapped; a date being typed in the picker is left alone."""
    await page.clock.install()
    errors = await _open_the_week(page, seeded)
    await page.get_by_role("button", name="7 days").click()
    service = page.locator("section", has=page.get_by_role("heading", name="Service"))
    await expect(service.get_by_text("No data in this period.")).to_be_visible()
    await expect(page.locator("#dash-updated")).to_have_text(
        "Updated 14:00 · refreshes every minute"
    )
    await page.get_by_label("From").fill("2026-11-13")  # typing, not submitted
    async with sqlite_storage.uow() as uow:  # the bot answers a question an hour ago
        contact = await uow.contacts.create("Nina", "en")
        chat = await uow.conversations.create(contact.id, Channel.WEBCHAT, NOW)
        await uow.kb.add(contact.id, chat.id, "where is my parcel", "en", KbDecisionKind.ANSWERED,
                         "shipping", 0.9, [], NOW - timedelta(hours=1))  # fmt: skip
        await uow.commit()
    await page.clock.run_for(30_000)  # half a minute: not yet
    await expect(service.get_by_text("No data in this period.")).to_be_visible()
    await page.clock.run_for(31_000)
    tile = page.locator('[data-tile="self_service"] .detail')
    await expect(tile).to_have_text("0 of 1 bot answers")
    await expect(page.get_by_label("From")).to_have_value("2026-11-13")
    assert errors == []


@needs_browser
async def test_a_failed_refresh_keeps_the_board_and_says_so(seeded: Site, page: Any) -> None:
    await page.clock.install()
    await _open_the_week(page, seeded)
    await page.get_by_role("button", name="7 days").click()
    updated = page.locator("#dash-updated")
    await expect(updated).to_have_text("Updated 14:00 · refreshes every minute")
    await page.route("**/dashboard?since=7d", lambda route: route.abort())  # the server is gone
    await page.clock.run_for(61_000)
    await expect(updated).to_have_text("Updated 14:00 · could not refresh, retrying")
    await expect(page.get_by_role("heading", name="Service")).to_be_visible()
    await page.unroute("**/dashboard?since=7d")  # back: the next turn refreshes again
    await page.clock.run_for(61_000)
    await expect(updated).to_have_text("Updated 14:00 · refreshes every minute")
