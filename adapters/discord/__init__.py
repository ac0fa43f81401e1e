"""Discord adapter: `/quote` slash commands on discord.py."""
