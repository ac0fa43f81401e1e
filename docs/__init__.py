"""The operator guides, installed with the package so that `quotebot docs NAME` shows them."""
