"""The chat text grammar shared by the console and Slack: `/quote <verb> words key:value`."""

from __future__ import annotations

import re
import shlex

from rapidfuzz.distance import Levenshtein

from quotebot.bot.models import ChannelRef, Request, UserRef
from quotebot.bot.registry import DID_YOU_MEAN, Command, Registry

PREFIX = "/quote"
_KEYWORD = re.compile(r"^([a-z]+):(.*)$", re.DOTALL)


# shlex reads a character at a time and grows each word by concatenation: a megabyte line
# took 20 s on the event loop. Lines far longer than any command takes (searches stop at
# 2,000 characters, names at 100) are split on whitespace alone, then refused for length.
SPLIT_QUOTED_MAX = 10_000


def split_words(text: str) -> list[str]:
    """Words of `text`, honouring "double" quotes; an unbalanced quote is taken literally."""
    if len(text) > SPLIT_QUOTED_MAX:
        return text.split()
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.quotes = '"“”'
        lexer.escape = ""
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return text.split()


def parse(
    text: str,
    registry: Registry,
    *,
    user: UserRef | None = None,
    channel: ChannelRef | None = None,
    raw: object = None,
) -> Request:
    """Turn `/quote ...` (the prefix is optional) into a Request for a registry command.

    The first word picks the command (`random`, `show`, `daily off`, ...); anything else is
    a search. `by:` and `in:` (any option's keyword) take a value, quoted when it has
    spaces. Remaining words fill the positional options in order; the last one takes the
    rest of the line.
    """
    body = text.strip()
    if body.lower().startswith(PREFIX):
        body = body[len(PREFIX):].strip()
    words = split_words(body)
    if not words:
        return Request("help", {}, user, channel, raw)
    command, rest = _command(words, registry)
    if isinstance(command, str):
        # One word close to a verb ("randon"): search it, since "research" or "ransom" may
        # well be in a quote; only if nothing matches does the reply suggest the verb.
        args = {**_arguments(registry.get("search"), words), DID_YOU_MEAN: command}
        return Request("search", args, user, channel, raw)
    if command is None:
        return Request("search", _arguments(registry.get("search"), words), user, channel, raw)
    return Request(command.name, _arguments(command, rest), user, channel, raw)


def _command(words: list[str], registry: Registry) -> tuple[Command | str | None, list[str]]:
    """The command the words start with (and the rest), a near-miss verb's name, or None."""
    first = words[0].lower()
    if len(words) > 1 and (cmd := registry.typed(f"{first} {words[1].lower()}")):
        return cmd, words[1 + 1:]
    # A bare group alias ("daily") runs its command, but "daily 09:00" is the group's verb.
    if (cmd := registry.typed(first)) and not (len(words) > 1 and cmd.group == first):
        return cmd, words[1:]
    group = [c for c in registry if c.group == first]
    if group:
        # A group verb followed by arguments ("daily 09:00") runs the group's first command.
        return group[0], words[1:]
    if len(words) == 1 and not first.startswith("#"):
        close = [n for n in registry.names() if " " not in n
                 and Levenshtein.distance(first, n) <= (1 if len(n) <= 4 else 2)]
        if close:
            return close[0], []
    return None, words


def _arguments(command: Command, words: list[str]) -> dict[str, object]:
    keywords = {o.keyword: o for o in command.options if o.keyword and "text" in o.platforms}
    positional = [o for o in command.options if not o.keyword and "text" in o.platforms]
    args: dict[str, object] = {}
    loose: list[str] = []
    for word in words:
        match = _KEYWORD.match(word)
        if match and match.group(1).lower() in keywords and match.group(2):
            args[keywords[match.group(1).lower()].name] = match.group(2)
        else:
            loose.append(word)
    for i, opt in enumerate(positional):
        if not loose:
            break
        if i == len(positional) - 1:
            args[opt.name] = " ".join(loose)
            loose = []
        else:
            args[opt.name] = loose.pop(0)
    return args
