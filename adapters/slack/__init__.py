"""Slack adapter: the `/quote` slash command on slack-bolt."""
