"""Platform adapters: translate Discord, Slack and console events to core requests and back."""
