"""The benchmark: a generated million-quote corpus, ingest and query latencies, a naive baseline."""
