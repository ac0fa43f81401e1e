"""Quote cards: golden images in both themes, and the layout's boxes inside the canvas, apart.

The goldens are tests/data/cards/<name>-<theme>.png. After a deliberate change to how cards
look, regenerate them and look at every one before committing:

    QUOTEBOT_REGENERATE_CARDS=1 python -m pytest tests/bot/test_cards.py
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from quotebot.bot import cards
from quotebot.bot.clean import clean
from quotebot.bot.models import Card, Quote, Request

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "cards"
REGENERATE = bool(os.environ.get("QUOTEBOT_REGENERATE_CARDS"))
TOLERANCE = 2.0  # mean absolute difference per channel, 0-255: antialiasing, not a changed card


def quote(text: str, speaker: str | None = "Ada Lovelace",
          source: str = "The Analytical Engine Podcast", start: float | None = 754.0,
          quote_id: int = 1, verbatim: str = "") -> Quote:
    return Quote(quote_id, text, speaker, source, "engine", start, 0, 0.9, verbatim=verbatim)


LONG = ("The thing nobody tells you about starting out is that you will be bad at it for a "
        "long time, and that being bad at it is the only way through to being good at it.")
VERY_LONG = " ".join([
    "We kept shipping small changes every single day, and after a year the product was "
    "unrecognisable, though no single week ever felt like much progress at all."] * 4)
SAMPLES = {
    "short": quote("Ideas are cheap; execution is everything."),
    "long": quote(LONG),
    "very-long": quote(VERY_LONG),
    "rtl": quote("הרעיונות זולים, הביצוע הוא הכול. מי שלא מנסה לא טועה, אבל גם לא לומד.",
                 speaker="דנה כהן", source="פודקאסט הטכנולוגיה"),
    "cjk": quote("想法很便宜，执行才是一切。我们每天都在进步，一年以后产品已经完全不同了。",
                 speaker="李明", source="科技访谈"),
    "emoji": quote("I ❤ this team ☕ and we ship ★ every day ✓ 😀", start=None),
}
NEEDS_RAQM = {"rtl"}


def needs(name: str) -> None:
    if name in NEEDS_RAQM and not cards.raqm():
        pytest.skip("right-to-left cards need Pillow with libraqm (they are refused without)")


def needs_raqm_for_goldens() -> None:
    # The goldens were drawn with libraqm (Pillow's wheels have it); Pillow's basic layout
    # ignores the fonts' GPOS kerning, which moves glyphs by a pixel here and there.
    if not cards.raqm():
        pytest.skip("the golden images were drawn with libraqm's text layout")


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.mark.parametrize("theme", sorted(cards.THEMES))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_card_matches_its_golden_image(name, theme):
    needs(name)
    needs_raqm_for_goldens()
    card = cards.render(SAMPLES[name], theme)
    assert isinstance(card, Card), card
    golden = GOLDEN / f"{name}-{theme}.png"
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(card.png)
    expected, got = pixels(golden.read_bytes()), pixels(card.png)
    assert got.size == expected.size
    difference = ImageStat.Stat(ImageChops.difference(got, expected)).mean
    assert max(difference) <= TOLERANCE, f"{name}-{theme} differs by {difference}"


def test_the_golden_images_differ_from_each_other():
    """The tolerance is far below what a changed card costs: the goldens prove it."""
    short, long = (pixels((GOLDEN / f"{n}-light.png").read_bytes()) for n in ("short", "long"))
    assert max(ImageStat.Stat(ImageChops.difference(short, long)).mean) > 5 * TOLERANCE


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_line_is_inside_the_canvas_and_none_overlap(name):
    needs(name)
    plan = cards.layout(SAMPLES[name])
    assert isinstance(plan, cards.Layout)
    boxes = plan.boxes()
    assert len(boxes) == len(plan.words) + 2  # the words, the speaker, the source
    for box in boxes:
        assert 0 < box.left < box.right < plan.width, box
        assert 0 < box.top < box.bottom < plan.height, box
        assert box.left >= cards.PAD // 2 and box.right <= plan.width - cards.PAD // 2, box
    for i, box in enumerate(boxes):
        for other in boxes[i + 1:]:
            assert not box.overlaps(other), (box, other)


@pytest.mark.parametrize("name", ["short", "long", "very-long", "rtl", "emoji"])
def test_the_card_shows_exactly_the_clean_words(name):
    needs(name)
    text = SAMPLES[name].text
    plan = cards.layout(SAMPLES[name])
    assert " ".join(plan.words) == f"“{' '.join(text.split())}”"


def test_cjk_lines_break_between_characters_but_keep_the_words():
    plan = cards.layout(SAMPLES["cjk"])
    assert "".join(plan.words) == f"“{SAMPLES['cjk'].text}”"
    assert len(plan.words) > 1
    assert not any(line[0] in cards.NO_LINE_START for line in plan.words)


def test_a_card_draws_the_clean_form_even_of_a_quote_shown_exact():
    said = "Um, so, ideas are, uh, cheap, you know, execution is, is everything."
    plan = cards.layout(quote(said, verbatim=said))
    assert " ".join(plan.words) == f"“{clean(said)}”"
    assert "Um" not in " ".join(plan.words)


def test_the_size_adapts_to_the_length():
    short, long, very = (cards.layout(SAMPLES[n]) for n in ("short", "long", "very-long"))
    assert short.size == cards.MAX_SIZE > long.size > very.size >= cards.MIN_SIZE
    assert very.size >= cards.COMFORT  # readable: the card grew taller instead
    assert short.height == long.height == cards.MIN_HEIGHT < very.height <= cards.MAX_HEIGHT


def test_lines_are_balanced_without_an_orphan():
    for name in ("short", "long", "very-long"):
        lengths = [len(line) for line in cards.layout(SAMPLES[name]).words]
        assert len(lengths) > 1
        assert lengths[-1] >= 0.4 * max(lengths), (name, lengths)
    greedy_orphan = quote("Make something people want, and then keep making it better, every "
                          "week, for years on end, until it works.")
    lengths = [len(line) for line in cards.layout(greedy_orphan).words]
    assert min(lengths) >= 0.5 * max(lengths), lengths


def test_too_long_a_quote_gets_no_card():
    text = " ".join(f"Point {i} was another thing they said." for i in range(100))
    result = cards.render(quote(text))
    assert result == cards.NoCard(f"the quote is too long for a card ({len(text):,} characters)")


@pytest.mark.parametrize("char", ["🦄", "𠀀"])
def test_a_character_no_font_has_is_never_a_box(char):
    result = cards.render(quote(f"They called it a {char} and moved on."))
    assert result == cards.NoCard(f"the card's fonts cannot draw {char} (U+{ord(char):04X})")


def test_without_raqm_right_to_left_text_gets_no_card(monkeypatch):
    monkeypatch.setattr(cards, "raqm", lambda: False)
    result = cards.render(SAMPLES["rtl"])
    assert isinstance(result, cards.NoCard) and "libraqm" in result.reason
    assert isinstance(cards.layout(SAMPLES["short"]), cards.Layout)  # left to right still works


def test_alt_text_is_the_words_and_the_attribution():
    card = cards.render(SAMPLES["short"])
    assert card.alt_text == ("“Ideas are cheap; execution is everything.” — Ada Lovelace, "
                             "The Analytical Engine Podcast · 12:34")
    assert card.filename == "quote-1.png"
    long = cards.render(quote(VERY_LONG * 2))
    assert isinstance(long, Card) and len(long.alt_text) <= cards.ALT_MAX
    assert long.alt_text.endswith("…” — Ada Lovelace, The Analytical Engine Podcast · 12:34") \
        or long.alt_text.endswith("… — Ada Lovelace, The Analytical Engine Podcast · 12:34")


def test_an_unknown_speaker_and_a_quote_without_a_time():
    plan = cards.layout(quote("Ship it.", speaker=None, start=None))
    assert [line.text for line in plan.lines[-2:]] == ["— Unknown speaker",
                                                      "The Analytical Engine Podcast"]


def test_an_unknown_theme_is_refused():
    with pytest.raises(ValueError, match="light or dark"):
        cards.render(SAMPLES["short"], "sepia")


def test_the_shipped_fonts_are_small_and_licensed():
    fonts = cards.FONTS
    sizes = sum(p.stat().st_size for p in fonts.iterdir() if p.suffix in (".ttf", ".otf"))
    assert sizes < 3_000_000
    assert (fonts / "LICENSE-DejaVu.txt").is_file()
    assert "SIL OPEN FONT LICENSE" in (fonts / "LICENSE-NotoSansCJK-OFL.txt").read_text()


async def test_the_card_button_draws_off_the_event_loop(registry, services, monkeypatch):
    threads = []
    real = cards.render

    def spy(quote, theme="light"):
        threads.append(threading.current_thread())
        return real(quote, theme)

    monkeypatch.setattr(cards, "render", spy)
    found = await registry.dispatch(Request("search", {"query": "secret sauce"}), services)
    (card,) = [a for a in found.actions if a.kind == "card"]
    reply = await registry.dispatch(card.request, services)
    assert isinstance(reply.card, Card) and reply.public
    assert threads and threading.main_thread() not in threads  # a worker thread drew it
