"""YAML loaders that refuse anchors and aliases: front matter, sidecars and quote lists."""

from __future__ import annotations

import yaml


class _NoAliases:
    """A loader mixin: an anchor or alias is an error. No file quotebot reads needs them,
    and nested aliases ("billion laughs") expand a few hundred bytes into gigabytes.
    `where` ends the message ("in front matter")."""

    where = ""

    def compose_node(self, parent, index):
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                problem=f"anchors and aliases (&name, *name) are not allowed{self.where}",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)  # type: ignore[misc]


class FrontMatterLoader(_NoAliases, yaml.SafeLoader):
    where = " in front matter"


class SidecarLoader(_NoAliases, yaml.SafeLoader):
    where = " in a sidecar"


class StringsLoader(_NoAliases, yaml.BaseLoader):
    """Every scalar a string (a quote "yes" or "1.0" stays the text it was); the base
    loader constructs no tags, so `!!python/...` cannot run anything."""
