"""Quote cards: a quote's clean words drawn as a PNG, with who said it and where.

The words are the clean display form (`quotebot.bot.clean`), never changed: they are only
broken into lines at spaces (or, in Chinese and Japanese, between characters), and set
in typographic quotes. The font size adapts to the length between `MAX_SIZE` and
`MIN_SIZE`; below `COMFORT` the card grows taller instead, up to `MAX_HEIGHT`; a quote
that does not fit even then gets no card (`NoCard`), and the caller posts it as text.

Fonts ship in `fonts/`: DejaVu Sans (Latin, Greek, Cyrillic, Hebrew, Arabic and many
symbols, the Bitstream Vera/DejaVu licence) and a subset of Noto Sans CJK SC (the common
Chinese, Japanese and Korean characters, SIL OFL 1.1). One font draws a whole card: the
first that has every character. A character neither has (most emoji, rare Han
characters) never becomes a box: the quote gets `NoCard`, naming the characters.

Right-to-left text (Hebrew, Arabic) needs Pillow built with libraqm (`features.check("raqm")`),
which shapes and orders it; without raqm such a quote gets `NoCard` rather than letters in
the wrong order or unjoined. Left-to-right text is drawn with Pillow's basic layout then.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, features

from quotebot.bot.library import CLEAN, styled
from quotebot.bot.models import Card, Quote, clip_words

log = logging.getLogger(__name__)

FONTS = Path(__file__).with_name("fonts")
FONT_FILES = ("DejaVuSans.ttf", "NotoSansCJKsc-Subset.otf")  # tried in this order
WIDTH, MIN_HEIGHT, MAX_HEIGHT = 1200, 675, 1500
PAD = 88  # the margin around everything
MAX_SIZE, MIN_SIZE, SIZE_STEP = 76, 28, 2  # the quote's font size, in pixels
COMFORT = 40  # below this size a card grows taller rather than its words smaller
SPEAKER_SIZE, SOURCE_SIZE = 34, 26
LEADING = 1.28  # line height as a multiple of the font size
GAP = 44  # between the quote and the attribution
ALT_MAX = 1000  # Slack's limit on alt text (Discord allows 1024)
THEMES = {
    "light": {"background": "#FAF7F2", "text": "#1F2328", "accent": "#5865F2"},
    "dark": {"background": "#17191E", "text": "#F2F3F5", "accent": "#8A92F7"},
}
INK, MUTED, ACCENT = 254, 170, 255  # palette indexes: text, the source line (greyer), bar
# Variation selectors only choose emoji or text presentation; a card draws the text form.
IGNORABLE = frozenset("\ufe0e\ufe0f\u200b\u200c\u200d\u2060")
OPEN_QUOTE, CLOSE_QUOTE = "\u201c", "\u201d"
# Cards are drawn in worker threads; the cached FreeType faces are not shared between two
# drawings at once (FreeType objects are not thread-safe). Drawing is CPU-bound under the
# GIL anyway, so this costs no throughput.
_DRAWING = threading.Lock()
# Punctuation that never starts a line of Chinese or Japanese (kinsoku): it stays with the
# character before it.
NO_LINE_START = frozenset("、。，．,.：；:;！？!?）」』】〕》〉”’…ー々ゃゅょっャュョッ・")


@dataclass(frozen=True)
class NoCard:
    """Why a quote gets no card; the caller posts the words as text and says so."""

    reason: str


@dataclass(frozen=True)
class Box:
    """Where one line of text lands on the card: its text and its ink's bounding box."""

    text: str
    left: int
    top: int
    right: int
    bottom: int

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.right and other.left < self.right
                and self.top < other.bottom and other.top < self.bottom)


@dataclass(frozen=True)
class Line:
    """One line as drawn: text, anchor point (`anchor` as Pillow takes it), font and size."""

    text: str
    x: int
    y: int
    anchor: str
    font: str
    size: int
    role: str  # "quote", "speaker" or "source"


@dataclass(frozen=True)
class Layout:
    """A card's geometry, independent of its theme: canvas size and every line placed."""

    width: int
    height: int
    size: int
    lines: tuple[Line, ...]
    rtl: bool

    @property
    def words(self) -> tuple[str, ...]:
        """The quote's lines, as drawn."""
        return tuple(line.text for line in self.lines if line.role == "quote")

    def boxes(self) -> list[Box]:
        """Each line's ink box, measured with the font and anchor it is drawn with."""
        canvas = ImageDraw.Draw(Image.new("L", (1, 1)))
        out = []
        for line in self.lines:
            left, top, right, bottom = canvas.textbbox(
                (line.x, line.y), line.text, font=_font(line.font, line.size),
                anchor=line.anchor, direction=_direction(self.rtl, line), features=None)
            out.append(Box(line.text, left, top, right, bottom))
        return out


# ---- fonts ---------------------------------------------------------------------------------


def raqm() -> bool:
    """Whether Pillow can shape complex scripts and order right-to-left text."""
    return bool(features.check("raqm"))


@cache
def _engine() -> ImageFont.Layout:
    return ImageFont.Layout.RAQM if raqm() else ImageFont.Layout.BASIC


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size, layout_engine=_engine())


@cache
def _coverage(name: str) -> frozenset[int]:
    """The code points a shipped font has glyphs for (its best cmap)."""
    from fontTools.ttLib import TTFont  # only the first card of a process pays for it

    with TTFont(str(FONTS / name), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _missing(text: str, name: str) -> list[str]:
    have = _coverage(name)
    return [c for c in dict.fromkeys(text)
            if not c.isspace() and c not in IGNORABLE and ord(c) not in have]


def pick_font(text: str) -> str | NoCard:
    """The first shipped font that has every character of `text`, or why there is none."""
    for name in FONT_FILES:
        if not _missing(text, name):
            return name
    lacking = _missing(text, FONT_FILES[-1])
    lacking = [c for c in lacking if c in _missing(text, FONT_FILES[0])]
    shown = " ".join(f"{c} (U+{ord(c):04X})" for c in lacking[:3])
    return NoCard(f"the card's fonts cannot draw {shown}")


def is_rtl(text: str) -> bool:
    """Whether `text` starts, in its first strong character, right to left."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _direction(rtl: bool, line: Line) -> str | None:
    return ("rtl" if rtl and line.role == "quote" else None) if raqm() else None


# ---- breaking lines ------------------------------------------------------------------------


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def units(text: str) -> list[tuple[str, bool]]:
    """`text` as unbreakable pieces, each with whether a space comes before it.

    Words break at spaces; wide (CJK) characters break between each other, except before
    punctuation that may not start a line.
    """
    pieces: list[tuple[str, bool]] = []
    for word in text.split():
        first = True
        current = ""
        for char in word:
            if current and (_wide(char) or _wide(current[-1])) and char not in NO_LINE_START:
                pieces.append((current, first))
                first, current = False, ""
            current += char
        pieces.append((current, first))
    return pieces


def join(pieces: list[tuple[str, bool]]) -> str:
    return "".join((" " if space and i else "") + text for i, (text, space) in enumerate(pieces))


def wrap(pieces: list[tuple[str, bool]], widths: list[float], space: float,
         limit: float) -> list[list[int]] | None:
    """Greedy lines of piece indexes no wider than `limit`; None when a piece alone is wider."""
    lines: list[list[int]] = []
    current: list[int] = []
    used = 0.0
    for i, (_, spaced) in enumerate(pieces):
        extra = widths[i] + (space if spaced and current else 0.0)
        if current and used + extra > limit:
            lines.append(current)
            current, used = [], 0.0
            extra = widths[i]
        if extra > limit:
            return None
        current.append(i)
        used += extra
    if current:
        lines.append(current)
    return lines


def balance(pieces: list[tuple[str, bool]], widths: list[float], space: float,
            limit: float) -> list[list[int]] | None:
    """The fewest lines within `limit`, made as even as they can be (no orphaned last word):
    the narrowest width that still needs no more lines than the greedy fill."""
    greedy = wrap(pieces, widths, space, limit)
    if greedy is None or len(greedy) == 1:
        return greedy
    low, high = max(widths), limit
    while high - low > 1:
        middle = (low + high) / 2
        tried = wrap(pieces, widths, space, middle)
        if tried is not None and len(tried) <= len(greedy):
            high = middle
        else:
            low = middle
    return wrap(pieces, widths, space, high)


# ---- layout --------------------------------------------------------------------------------


def attribution(quote: Quote) -> tuple[str, str]:
    """The lines under the words: "— Speaker" and "Source · 12:34"."""
    source = quote.source_label
    if quote.timestamp:
        source = f"{source} · {quote.timestamp}"
    return f"— {quote.speaker_name}", source


def alt_text(quote: Quote) -> str:
    """What a screen reader says for the card: the words, who said them, where and when."""
    words = " ".join(styled(quote, CLEAN).text.split())
    speaker, source = attribution(quote)
    tail = f" {speaker}, {source}"
    return clip_words(f"{OPEN_QUOTE}{words}{CLOSE_QUOTE}", ALT_MAX - len(tail)) + tail


def _fit_line(text: str, name: str, size: int, limit: float) -> str:
    """An attribution line cut (with an ellipsis) to `limit` pixels; never a quote's words."""
    font = _font(name, size)
    if font.getlength(text) <= limit:
        return text
    while text and font.getlength(text + "…") > limit:
        text = text[:-1]
    return text.rstrip() + "…"


def _quote_lines(words: str, name: str) -> tuple[int, list[str], int] | None:
    """The largest size at which `words` fit, its balanced lines and the canvas height."""
    pieces = units(words)
    pieces[0] = (OPEN_QUOTE + pieces[0][0], pieces[0][1])
    pieces[-1] = (pieces[-1][0] + CLOSE_QUOTE, pieces[-1][1])
    reference = _font(name, 100)  # measured once; widths scale with the size
    widths = [reference.getlength(text) for text, _ in pieces]
    space = reference.getlength(" ")
    room = WIDTH - 2 * PAD
    below = GAP + int(SPEAKER_SIZE * LEADING) + int(SOURCE_SIZE * LEADING)
    # Start near the size whose lines would fill the card, not at the largest every time.
    area = (MIN_HEIGHT - 2 * PAD - below) * room
    guess = int((area / (sum(widths) / 100 * LEADING)) ** 0.5) + 2 * SIZE_STEP
    start = max(COMFORT, min(MAX_SIZE, guess - guess % SIZE_STEP))
    for size in range(start, MIN_SIZE - 1, -SIZE_STEP):
        scale = size / 100
        # A little slack: hinting at small sizes makes text a hair wider than scaled.
        lines = balance(pieces, widths, space, room / scale * 0.98)
        if lines is None:
            continue
        height = 2 * PAD + len(lines) * int(size * LEADING) + below
        if height <= (MIN_HEIGHT if size > COMFORT else MAX_HEIGHT):
            texts = [join([pieces[i] for i in line]) for line in lines]
            font = _font(name, size)
            if all(font.getlength(t) <= room for t in texts):
                return size, texts, max(height, MIN_HEIGHT)
    return None


def layout(quote: Quote) -> Layout | NoCard:
    """Where every line of `quote`'s card goes, or why it gets none.

    Args:
        quote: a quote or highlight; its clean words are drawn whatever style it is in.

    Returns:
        The layout, or `NoCard` when a character cannot be drawn, right-to-left text cannot
        be shaped here, or the words do not fit even at the smallest size.
    """
    words = " ".join(
        "".join(c for c in styled(quote, CLEAN).text if c not in IGNORABLE).split())
    if not words:
        return NoCard("the quote has no words to draw")
    rtl = is_rtl(words)
    if rtl and not raqm():
        return NoCard("right-to-left text needs Pillow with libraqm, which this install "
                      "lacks")
    name = pick_font(OPEN_QUOTE + words + CLOSE_QUOTE)
    if isinstance(name, NoCard):
        return name
    fitted = _quote_lines(words, name)
    if fitted is None:
        return NoCard(f"the quote is too long for a card ({len(words):,} characters)")
    size, texts, height = fitted
    step = int(size * LEADING)
    below = GAP + int(SPEAKER_SIZE * LEADING) + int(SOURCE_SIZE * LEADING)
    top = PAD + (height - 2 * PAD - below - len(texts) * step) // 2
    x, anchor = (WIDTH - PAD, "ra") if rtl else (PAD, "la")
    lines = [Line(t, x, top + i * step, anchor, name, size, "quote") for i, t in enumerate(texts)]
    speaker, source = attribution(quote)
    y = height - PAD - int(SOURCE_SIZE * LEADING) - int(SPEAKER_SIZE * LEADING)
    for text, size_, role in ((speaker, SPEAKER_SIZE, "speaker"),
                              (source, SOURCE_SIZE, "source")):
        font_name = pick_font(text)
        if isinstance(font_name, NoCard):  # an exotic name: the words matter, not the name
            text = "".join(c if not _missing(c, FONT_FILES[0]) else "?" for c in text)
            font_name = FONT_FILES[0]
        text = _fit_line(text, font_name, size_, WIDTH - 2 * PAD)
        lines.append(Line(text, x, y, anchor, font_name, size_, role))
        y += int(size_ * LEADING)
    return Layout(WIDTH, height, size, tuple(lines), rtl)


# ---- drawing -------------------------------------------------------------------------------


def _palette(theme: str) -> list[int]:
    """Index i < 255 blends background into text colour by i/254; 255 is the accent."""
    colours = THEMES[theme]
    ends = [ImageColor.getrgb(colours[k]) for k in ("background", "text")]
    palette: list[int] = []
    for i in range(INK + 1):
        palette += [round(b + (t - b) * i / INK) for b, t in zip(*ends, strict=True)]
    return palette + list(ImageColor.getrgb(colours["accent"]))


def draw(plan: Layout, theme: str = "light") -> Image.Image:
    """The card's picture in `theme` (light or dark).

    It is drawn as grey levels (antialiased text is a blend of background and text colour)
    into a palette image, one byte a pixel: a third of the data to compress, which keeps a
    tall card's PNG within the time budget.
    """
    image = Image.new("L", (plan.width, plan.height), 0)
    canvas = ImageDraw.Draw(image)
    bar = (PAD // 2 - 6, PAD, PAD // 2, plan.height - PAD)
    if plan.rtl:
        bar = (plan.width - PAD // 2, PAD, plan.width - PAD // 2 + 6, plan.height - PAD)
    canvas.rectangle(bar, fill=ACCENT)
    for line in plan.lines:
        canvas.text((line.x, line.y), line.text, font=_font(line.font, line.size),
                    fill=MUTED if line.role == "source" else INK, anchor=line.anchor,
                    direction=_direction(plan.rtl, line))
    image.putpalette(_palette(theme))
    return image


def render(quote: Quote, theme: str = "light") -> Card | NoCard:
    """`quote` as a PNG card with alt text, or why it gets none. CPU-bound (tens of ms):
    call it from a worker thread (`asyncio.to_thread`) in the bot."""
    if theme not in THEMES:
        raise ValueError(f"theme is light or dark, not {theme!r}")
    with _DRAWING:
        plan = layout(quote)
        if isinstance(plan, NoCard):
            return plan
        image = draw(plan, theme)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return Card(out.getvalue(), alt_text(quote), f"quote-{quote.id}.png")


async def draw_card(quote: Quote, theme: str = "light") -> tuple[Card | None, str | None]:
    """`quote` as a card, drawn in a worker thread (tens of milliseconds of CPU the event
    loop should not wait on); or None and a note saying why the words come as text."""
    drawn = await asyncio.to_thread(render, quote, theme if theme in THEMES else "light")
    if isinstance(drawn, NoCard):
        log.info("no card for quote %s: %s", quote.id, drawn.reason)
        return None, f"No card for this quote: {drawn.reason}. Here it is as text."
    return drawn, None
