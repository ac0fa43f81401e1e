"""Ingestion: parse transcript files, re-segment them into quotes, score them, store them."""
