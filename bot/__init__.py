"""quotebot core: platform-neutral quotes, search, random, commands and scheduling."""
