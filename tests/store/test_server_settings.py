"""store/server_settings.py: a server's settings are its own, set, replaced and cleared."""

from __future__ import annotations

import pytest

from quotebot.store.server_settings import ServerSettings

pytestmark = pytest.mark.both_engines


async def test_a_setting_is_kept_per_server_replaced_and_cleared(db):
    settings = ServerSettings(db)
    assert await settings.get("discord", "G1", "admin_role") is None
    await settings.set("discord", "G1", "admin_role", "111")
    await settings.set("discord", "G2", "admin_role", "222")
    await settings.set("discord", "G1", "admin_role", "333")  # replaced, not added
    assert await settings.get("discord", "G1", "admin_role") == "333"
    assert await settings.get("discord", "G2", "admin_role") == "222"
    assert await settings.get("slack", "G1", "admin_role") is None
    await settings.set("discord", "G1", "admin_role", None)
    assert await settings.get("discord", "G1", "admin_role") is None
    assert await settings.get("discord", "G2", "admin_role") == "222"
    with pytest.raises(ValueError):
        await settings.get("discord", "G1", "prefix")
