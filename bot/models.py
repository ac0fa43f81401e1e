"""Platform-neutral dataclasses: quotes, requests, replies and the refs adapters fill in."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SOURCE_LABEL_MAX = 50


def clip_words(text: str, limit: int) -> str:
    """`text` (whitespace collapsed) cut at a word boundary to at most `limit` characters,
    with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(",;:—–- ") + "…"


_YOUTUBE = re.compile(r"^https?://(?:www\.|m\.|music\.)?(?:youtube\.com|youtu\.be)/", re.I)


def moment_url(url: str | None, start: float | None) -> str | None:
    """`url` pointing at second `start`: `t=` for YouTube, a `#t=` media fragment otherwise.

    Only well-formed http(s) URLs with a host are linked: anything else in a transcript's
    metadata is not (Discord refuses a whole message whose link button it cannot parse).
    """
    if not url or start is None or not re.match(r"^https?://[^\s<>]+$", url, re.I):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a broken IPv6 host ("https://[abc/x"), a bad port
        return None
    if not host:
        return None
    seconds = max(0, int(start))
    if _YOUTUBE.match(url):
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "t"]
        query.append(("t", f"{seconds}s"))
        return urlunsplit(parts._replace(query=urlencode(query), fragment=""))
    return f"{url.split('#', 1)[0]}#t={seconds}"


@dataclass(frozen=True)
class Quote:
    """A stored quote or highlight with who said it and where.

    `text` is what people are shown: the clean form (`quotebot.bot.clean`) unless the channel or the
    user asked for the exact words; `verbatim` is always the exact words. A highlight (a
    passage chosen for posting) carries `highlight_id`, and spans the quotes at positions
    `position`..`last_position`; `id` is the quote it starts in. `start` is seconds into
    the source or None.
    """

    id: int
    text: str
    speaker: str | None
    source: str
    source_slug: str
    start: float | None
    position: int
    quotability: float
    source_id: int = field(default=0, compare=False)
    speaker_id: int | None = field(default=None, compare=False)
    verbatim: str = field(default="", compare=False)
    highlight_id: int | None = field(default=None, compare=False)
    last_position: int | None = field(default=None, compare=False)
    speaker_role: str | None = field(default=None, compare=False)
    venue: str | None = field(default=None, compare=False)
    source_url: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.verbatim:
            object.__setattr__(self, "verbatim", self.text)
        if self.last_position is None:
            object.__setattr__(self, "last_position", self.position)

    @property
    def speaker_name(self) -> str:
        return self.speaker or "Unknown speaker"

    @property
    def source_label(self) -> str:
        """The source as an attribution line names it: the show, else the title clipped."""
        return clip_words(self.venue or self.source, SOURCE_LABEL_MAX)

    @property
    def moment_url(self) -> str | None:
        """A link to the moment this was said: the source's media URL at `start` (YouTube's
        `t=` parameter, a `#t=` media fragment elsewhere); None without a URL or a time."""
        return moment_url(self.source_url, self.start)

    def spans(self, position: int) -> bool:
        """Whether the quote at `position` of the same source is part of this one."""
        return self.position <= position <= (self.last_position or self.position)

    @property
    def timestamp(self) -> str | None:
        """`m:ss` or `h:mm:ss`, or None when the source has no times."""
        if self.start is None:
            return None
        total = int(self.start)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "verbatim": self.verbatim,
            "speaker": self.speaker,
            "speaker_role": self.speaker_role,
            "source": self.source,
            "source_slug": self.source_slug,
            "start": self.start,
            "timestamp": self.timestamp,
            "position": self.position,
            "quotability": round(self.quotability, 3),
            "highlight_id": self.highlight_id,
            "url": self.moment_url,
        }


@dataclass(frozen=True)
class UserRef:
    """Who sent a request; `is_admin` is the platform's verdict (manage server, workspace admin)."""

    platform: str
    id: str
    name: str | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class ChannelRef:
    """Where a request came from or a post goes: platform, workspace/guild and channel ids.

    `org`: the organisation an org-wide install serves (a Slack Enterprise Grid's id), else
    empty; such an install's workspaces share one library, the org's.
    """

    platform: str
    workspace: str
    channel: str
    org: str = ""


@dataclass(frozen=True)
class Request:
    """A command invocation: the command's registry name, its parsed arguments, who and where.

    `raw` holds the platform event for the adapter's own use; the core never reads it.
    """

    command: str
    args: Mapping[str, Any] = field(default_factory=dict)
    user: UserRef | None = None
    channel: ChannelRef | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))

    def arg(self, name: str, default: Any = None) -> Any:
        value = self.args.get(name)
        return default if value is None or value == "" else value


@dataclass(frozen=True)
class SearchState:
    """What produced a search result: the search, the match shown (0-based `offset`) and how
    many matches it has in all (`total`, the same on every page), so "Next match" can ask
    for the one after and a reply can say "match 2 of 7"."""

    query: str
    speaker: str | None
    source: str | None
    offset: int
    total: int

    @property
    def position(self) -> int:
        """The match shown, counted from 1."""
        return self.offset + 1

    def has_more(self, shown: int = 1) -> bool:
        """Whether matches follow the `shown` ones from `offset`."""
        return self.remaining(shown) > 0

    def remaining(self, shown: int = 1) -> int:
        """How many matches follow the `shown` ones from `offset`."""
        return max(0, self.total - self.offset - shown)

    def match_label(self, index: int = 0) -> str:
        """The "match 2 of 7" of the `index`-th quote shown (0: the first), on every platform."""
        return f"match {self.position + index} of {self.total}"

    def next(self, shown: int = 1) -> Request:
        """The request for the match after the `shown` ones."""
        args: dict[str, Any] = {"query": self.query, "offset": self.offset + shown}
        if self.speaker:
            args["speaker"] = self.speaker
        if self.source:
            args["source"] = self.source
        return Request("search", args)


# How the answer to a pressed button is shown: in place of the message the button is on,
# as a new message only the presser sees, or as a new message for the whole channel.
REPLACE, PRIVATE, PUBLIC = "replace", "private", "public"


@dataclass(frozen=True)
class Action:
    """A button the core offers on a reply: adapters draw it and decode a press back into
    `request`. `kind` names it (next, context, share, card, listen); `answer` says how its answer
    is shown (REPLACE, PRIVATE or PUBLIC); a listen action opens `url` instead of asking."""

    kind: str
    label: str
    request: Request | None = None
    answer: str = PRIVATE
    url: str | None = None


NEXT, CONTEXT, SHARE, CARD, LISTEN = "next", "context", "share", "card", "listen"
ANSWERS = {NEXT: REPLACE, CONTEXT: PRIVATE, SHARE: PUBLIC, CARD: PUBLIC}


def quote_request(kind: str, quote: Quote) -> Request:
    """What the Context (`kind` CONTEXT), Share (SHARE) or Card (CARD) button of `quote`
    asks for: the quote again, by its id and the highlight shown if any, with context, for
    everyone, or for everyone as a picture."""
    args: dict[str, Any] = {"id": quote.id}
    if quote.highlight_id:
        args["highlight"] = quote.highlight_id
    if kind in (SHARE, CARD):
        args.update(context=0, share=True)
    if kind == CARD:
        args["card"] = True
    return Request("show", args)


@dataclass(frozen=True)
class Card:
    """A quote drawn as a picture (`quotebot.bot.cards`): PNG bytes, the alt text that says
    what it shows (the words and who said them, where), and a file name for uploads."""

    png: bytes = field(repr=False)
    alt_text: str
    filename: str


@dataclass(frozen=True)
class QuoteReply:
    """One or more quotes, best first. Chat adapters show `quotes[0]`; the CLI may list all.

    `context` is the quote with its neighbours in source order (empty unless asked for);
    `search` is set for search results; `public` asks the adapter to post for everyone.
    `card` is the quote as a picture, to post with it (the Card button, daily posts with
    cards on). `actions` are the buttons that go with it, decided here for every platform.
    """

    quotes: tuple[Quote, ...]
    context: tuple[Quote, ...] = ()
    search: SearchState | None = None
    public: bool = False
    note: str | None = None
    card: Card | None = None

    @property
    def quote(self) -> Quote:
        return self.quotes[0]

    def is_focus(self, neighbour: Quote) -> bool:
        """Whether a quote of `context` is (part of) the quote this reply is about."""
        focus = self.quote
        return neighbour.source_id == focus.source_id and focus.spans(neighbour.position)

    @property
    def has_more(self) -> bool:
        """Whether a search has matches after the ones shown."""
        return self.search is not None and self.search.has_more(len(self.quotes))

    @property
    def actions(self) -> tuple[Action, ...]:
        """Next match (a search with more), Context (unless shown), Share and Card (unless
        already public) and Listen (when the recording's moment has a link)."""
        quote = self.quote
        actions = []
        if self.search is not None and self.has_more:
            actions.append(Action(NEXT, "Next match", self.search.next(len(self.quotes)),
                                  ANSWERS[NEXT]))
        if not self.context:
            actions.append(Action(CONTEXT, "Context", quote_request(CONTEXT, quote),
                                  ANSWERS[CONTEXT]))
        if not self.public:
            actions.append(Action(SHARE, "Share", quote_request(SHARE, quote), ANSWERS[SHARE]))
            actions.append(Action(CARD, "Card", quote_request(CARD, quote), ANSWERS[CARD]))
        if quote.moment_url:
            actions.append(Action(LISTEN, f"Listen at {quote.timestamp}", url=quote.moment_url))
        return tuple(actions)


@dataclass(frozen=True)
class Mention:
    """A channel named in a reply's text. Each platform writes it its own way (Discord and
    Slack as a channel link, which never notifies anyone; the console as `#id`)."""

    channel: str


@dataclass(frozen=True)
class Text:
    """Reply text that names channels: plain strings and `Mention`s, in order. Adapters
    escape the strings and link the mentions; they never look for links inside text."""

    parts: tuple[str | Mention, ...]

    @classmethod
    def of(cls, *parts: str | Mention) -> Text:
        return cls(tuple(parts))

    def render(self, link: Callable[[str], str],
               escape: Callable[[str], str] = lambda text: text) -> str:
        """The text with each string passed through `escape` and each mention through `link`
        (which gets the channel id)."""
        return "".join(escape(p) if isinstance(p, str) else link(p.channel) for p in self.parts)

    def __str__(self) -> str:
        return self.render(lambda channel: f"#{channel}")


def render_parts(value: str | Text, link: Callable[[str], str],
                escape: Callable[[str], str] = lambda text: text) -> str:
    """`value` written out: a plain string escaped, a `Text` rendered part by part."""
    return value.render(link, escape) if isinstance(value, Text) else escape(value)


@dataclass(frozen=True)
class ListReply:
    """A titled list of lines (speakers, sources, subscriptions)."""

    title: str
    items: tuple[str | Text, ...]
    public: bool = False


@dataclass(frozen=True)
class TextReply:
    """A plain confirmation or information message."""

    text: str | Text
    public: bool = False


@dataclass(frozen=True)
class HelpEntry:
    """One command in help: its name, its usage in the text grammar (console, Slack), and
    what it does. Adapters with their own syntax (Discord) write the usage from `command`."""

    command: str
    usage: str
    help: str


@dataclass(frozen=True)
class HelpReply:
    """Help generated from the command registry."""

    title: str
    entries: tuple[HelpEntry, ...]
    public: bool = False


@dataclass(frozen=True)
class Hint:
    """One suggestion in an error: prose (`text`) and maybe something to try, an example
    `request` or a `command` whose usage is shown. `spelled` is that request or usage in
    the text grammar (console, Slack), filled in by the registry; Discord writes its own."""

    text: str = ""
    request: Request | None = None
    command: str | None = None
    spelled: str = ""


@dataclass(frozen=True)
class ErrorReply:
    """Something the user can fix: the message and a few suggestions. Always private.

    Suggestions given as strings are prose (`Hint(text)`)."""

    message: str | Text
    suggestions: tuple[Hint, ...] = ()
    public: bool = False

    def __post_init__(self) -> None:
        hints = tuple(h if isinstance(h, Hint) else Hint(str(h)) for h in self.suggestions)
        object.__setattr__(self, "suggestions", hints)


Reply = QuoteReply | ListReply | TextReply | HelpReply | ErrorReply
