"""The database schema, as an ordered list of migrations applied by `PRAGMA user_version`."""

# Each entry migrates from user_version == index to index + 1. Never edit a released entry:
# append a new one. Every table the bot will ever need lives here and nowhere else.
MIGRATIONS: tuple[str, ...] = (
    # 1: sources, speakers, quotes, the FTS5 index and the tables later features write to.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE sources (
        id           INTEGER PRIMARY KEY,
        slug         TEXT NOT NULL UNIQUE,
        title        TEXT NOT NULL,
        date         TEXT,
        venue        TEXT,
        url          TEXT,
        path         TEXT,
        format       TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        meta_json    TEXT NOT NULL DEFAULT '{}',
        ingested_at  TEXT NOT NULL
    );

    CREATE TABLE speakers (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT
    );

    CREATE TABLE speaker_aliases (
        alias      TEXT NOT NULL COLLATE NOCASE,
        speaker_id INTEGER NOT NULL REFERENCES speakers(id) ON DELETE CASCADE,
        PRIMARY KEY (alias, speaker_id)
    ) WITHOUT ROWID;

    -- AUTOINCREMENT: an id once shown to a user never comes back for a different quote.
    CREATE TABLE quotes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        speaker_id  INTEGER REFERENCES speakers(id),
        position    INTEGER NOT NULL,
        start       REAL,
        text        TEXT NOT NULL,
        quotability REAL NOT NULL,
        rand_key    INTEGER NOT NULL,
        -- "s<speaker_id> o<source_id>": indexed by FTS so filters narrow inside the index.
        tags        TEXT NOT NULL
    );
    CREATE INDEX quotes_by_source ON quotes (source_id, position);
    -- Random picks seek a uniform random key in the partial indexes of RANDOM_INDEXES
    -- below (created right after this script): O(log n), no scans.
    -- No per-source random index: a source's positions are 0..n-1, so a random position
    -- seeks quotes_by_source. Every index here costs ingest speed (measured: ~15% each).

    -- External-content index: the text lives once, in quotes; triggers keep the index in sync.
    CREATE VIRTUAL TABLE quotes_fts USING fts5 (
        text,
        tags,
        content = 'quotes',
        content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes BEGIN
        INSERT INTO quotes_fts (rowid, text, tags) VALUES (new.id, new.text, new.tags);
    END;
    CREATE TRIGGER quotes_fts_delete AFTER DELETE ON quotes BEGIN
        INSERT INTO quotes_fts (quotes_fts, rowid, text, tags)
        VALUES ('delete', old.id, old.text, old.tags);
    END;
    CREATE TRIGGER quotes_fts_update AFTER UPDATE OF text, tags ON quotes BEGIN
        INSERT INTO quotes_fts (quotes_fts, rowid, text, tags)
        VALUES ('delete', old.id, old.text, old.tags);
        INSERT INTO quotes_fts (rowid, text, tags) VALUES (new.id, new.text, new.tags);
    END;
    -- BM25 ranks by the words only; the tags column is for filtering.
    INSERT INTO quotes_fts (quotes_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
    -- Merge index segments 16 at a time instead of 4: ingest of 1M quotes 5.4 -> 5.9 MB/s.
    INSERT INTO quotes_fts (quotes_fts, rank) VALUES ('automerge', 16);
    CREATE VIRTUAL TABLE quotes_vocab USING fts5vocab (quotes_fts, 'col');

    -- Snapshot of quotes_vocab (term -> number of quotes), refreshed after each ingest:
    -- the search planner reads document frequencies and fuzzy-corrects against it.
    CREATE TABLE terms (
        term TEXT PRIMARY KEY,
        docs INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- Daily posts: one row per channel subscription.
    CREATE TABLE subscriptions (
        id           INTEGER PRIMARY KEY,
        platform     TEXT NOT NULL,
        workspace    TEXT NOT NULL DEFAULT '',
        channel      TEXT NOT NULL,
        local_time   TEXT NOT NULL,
        timezone     TEXT NOT NULL,
        speaker_id   INTEGER REFERENCES speakers(id) ON DELETE SET NULL,
        source_id    INTEGER REFERENCES sources(id) ON DELETE SET NULL,
        created_by   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        enabled      INTEGER NOT NULL DEFAULT 1,
        cycle        INTEGER NOT NULL DEFAULT 0,
        failures     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        disabled_reason TEXT,
        UNIQUE (platform, workspace, channel)
    );

    -- Post history: the (subscription, local date) claim that makes daily posts exactly-once.
    CREATE TABLE daily_posts (
        id              INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        local_date      TEXT NOT NULL,
        quote_id        INTEGER REFERENCES quotes(id) ON DELETE SET NULL,
        cycle           INTEGER NOT NULL,
        claimed_by      TEXT NOT NULL,
        claimed_at      TEXT NOT NULL,
        lease_until     TEXT NOT NULL,
        sent_at         TEXT,
        message_ref     TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        UNIQUE (subscription_id, local_date)
    );
    CREATE INDEX daily_posts_cycle ON daily_posts (subscription_id, cycle, quote_id);

    -- Slack OAuth: installations and the short-lived state values of the install flow.
    CREATE TABLE slack_installations (
        id              INTEGER PRIMARY KEY,
        client_id       TEXT NOT NULL,
        enterprise_id   TEXT NOT NULL DEFAULT '',
        team_id         TEXT NOT NULL DEFAULT '',
        user_id         TEXT NOT NULL DEFAULT '',
        is_enterprise_install INTEGER NOT NULL DEFAULT 0,
        data_json       TEXT NOT NULL,
        installed_at    TEXT NOT NULL
    );
    CREATE INDEX slack_installations_lookup
        ON slack_installations (client_id, enterprise_id, team_id, user_id, installed_at);

    CREATE TABLE slack_oauth_states (
        state      TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: daily posts. `active_from`: a subscription set (or changed) after today's time
    # first posts at its next run, not at once. `abandoned_at`: a claim whose local day
    # ended unsent (or that found no quote), kept as a record and never retried.
    """
    ALTER TABLE subscriptions ADD COLUMN active_from TEXT;
    ALTER TABLE daily_posts ADD COLUMN abandoned_at TEXT;
    """,
    # 3: highlights, the passages worth posting (spans over a source's quotes, chosen at
    # ingest); per-channel decks so random draws do not repeat until the pool is used up;
    # per-channel settings; daily posts remember the highlight they posted.
    """
    CREATE TABLE highlights (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        speaker_id     INTEGER REFERENCES speakers(id),
        first_position INTEGER NOT NULL,
        last_position  INTEGER NOT NULL,
        start          REAL,
        text           TEXT NOT NULL,  -- the exact words, a slice of the quotes it spans
        score          REAL NOT NULL,
        reasons        TEXT NOT NULL DEFAULT '[]',
        rand_key       INTEGER NOT NULL
    );
    CREATE INDEX highlights_random ON highlights (rand_key);
    CREATE INDEX highlights_by_speaker ON highlights (speaker_id, rand_key);
    CREATE INDEX highlights_by_source ON highlights (source_id, first_position);

    -- What a channel (or a CLI user) has been shown of a pool since the pool last ran out.
    CREATE TABLE decks (
        deck         TEXT NOT NULL,
        highlight_id INTEGER NOT NULL REFERENCES highlights(id) ON DELETE CASCADE,
        shown_at     TEXT NOT NULL,
        PRIMARY KEY (deck, highlight_id)
    ) WITHOUT ROWID;
    CREATE INDEX decks_by_highlight ON decks (highlight_id);

    CREATE TABLE channel_settings (
        platform  TEXT NOT NULL,
        workspace TEXT NOT NULL DEFAULT '',
        channel   TEXT NOT NULL,
        style     TEXT NOT NULL DEFAULT 'clean' CHECK (style IN ('clean', 'exact')),
        PRIMARY KEY (platform, workspace, channel)
    ) WITHOUT ROWID;

    ALTER TABLE daily_posts ADD COLUMN highlight_id INTEGER
        REFERENCES highlights(id) ON DELETE SET NULL;
    CREATE INDEX daily_posts_highlight ON daily_posts (highlight_id);
    """,
    # 4: a channel's daily posts can carry the quote as a picture (`/quote settings card:on`).
    """
    ALTER TABLE channel_settings ADD COLUMN card INTEGER NOT NULL DEFAULT 0
        CHECK (card IN (0, 1));
    """,
    # 5: curating. `hidden` keeps a quote out of random draws and daily posts (and the
    # highlights spanning it) while search and show still find it. The random-key indexes
    # of RANDOM_INDEXES keep their predicate: queries add `q.hidden = 0`, which SQLite
    # checks on the row it already reads, so a draw is still one index seek (plus a step
    # past each hidden quote met, which few are); changing the predicate would rebuild
    # both indexes of every existing database. `quotes_hidden` holds only hidden quotes
    # (empty in most libraries, free at ingest): highlight draws ask it whether a span
    # holds one. `audit`: every curating change, who and when, before and after.
    """
    ALTER TABLE quotes ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));
    CREATE INDEX quotes_hidden ON quotes (source_id, position) WHERE hidden = 1;

    CREATE TABLE audit (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        at             TEXT NOT NULL,
        actor_platform TEXT NOT NULL,
        actor_id       TEXT NOT NULL,
        actor_name     TEXT,
        action         TEXT NOT NULL,
        target_kind    TEXT NOT NULL,
        target_id      TEXT NOT NULL,
        before_json    TEXT,
        after_json     TEXT
    );
    """,
    # 6: libraries. Each community (a Discord server, a Slack workspace; the operator's own,
    # `local`) sees its own collection of sources plus the shared collections it enabled
    # (`bundled`, the transcripts shipped with quotebot, and any an operator ingests with
    # `--collection`). A library exists once its own collection does (kind 'library',
    # owned by platform + workspace); `library_collections` holds what else it enabled.
    # Sources, quotes and highlights carry their collection (on quotes and highlights a
    # copy, set at insert, so random draws seek (collection, rand_key) in one index and
    # search narrows to `c<id>` inside the FTS index). Quote ids stay global: a library
    # only cannot see the others'. What existed before stays seen: the sources become the
    # operator's library `local` (id 1), the bundled ones `bundled` (id 2); every server
    # and workspace known from subscriptions or channel settings becomes a library with
    # both enabled. Slugs stay unique across the database (an ingest refuses a slug
    # another collection holds). Rewriting the tags costs one FTS update per quote, once.
    """
    CREATE TABLE collections (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        kind       TEXT NOT NULL CHECK (kind IN ('shared', 'library')),
        platform   TEXT,
        workspace  TEXT,
        created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE UNIQUE INDEX collections_by_owner ON collections (platform, workspace)
        WHERE kind = 'library';
    INSERT INTO collections (id, name, kind, platform, workspace)
        VALUES (1, 'local', 'library', 'local', '');
    INSERT INTO collections (id, name, kind) VALUES (2, 'bundled', 'shared');

    CREATE TABLE library_collections (
        platform      TEXT NOT NULL,
        workspace     TEXT NOT NULL,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        PRIMARY KEY (platform, workspace, collection_id)
    ) WITHOUT ROWID;

    ALTER TABLE sources ADD COLUMN collection_id INTEGER NOT NULL DEFAULT 1;
    UPDATE sources SET collection_id = 2
    WHERE slug IN ('brockman-wang-interview', 'sutskever-patel-interview')
      AND EXISTS (SELECT 1 FROM meta WHERE key = 'bundled_digest')
      AND substr(replace(coalesce(path, ''), '\', '/'), -length(slug) - 17)
          = '/transcripts/' || slug || '.txt';
    CREATE INDEX sources_by_collection ON sources (collection_id);

    ALTER TABLE quotes ADD COLUMN collection_id INTEGER NOT NULL DEFAULT 1;
    UPDATE quotes SET collection_id = 2
    WHERE source_id IN (SELECT id FROM sources WHERE collection_id = 2);
    UPDATE quotes SET tags = tags || ' c' || collection_id;

    ALTER TABLE highlights ADD COLUMN collection_id INTEGER NOT NULL DEFAULT 1;
    UPDATE highlights SET collection_id = 2
    WHERE source_id IN (SELECT id FROM sources WHERE collection_id = 2);
    DROP INDEX highlights_random;
    DROP INDEX highlights_by_speaker;
    CREATE INDEX highlights_random ON highlights (collection_id, rand_key);
    CREATE INDEX highlights_by_speaker ON highlights (collection_id, speaker_id, rand_key);

    DROP INDEX IF EXISTS quotes_good;
    DROP INDEX IF EXISTS quotes_good_by_speaker;
    CREATE INDEX quotes_good ON quotes (collection_id, rand_key) WHERE quotability >= 0.5;
    CREATE INDEX quotes_good_by_speaker ON quotes (collection_id, speaker_id, rand_key)
        WHERE quotability >= 0.5;

    -- An org-wide install's channels draw from the org's library (ChannelRef.org).
    ALTER TABLE subscriptions ADD COLUMN org TEXT NOT NULL DEFAULT '';

    ALTER TABLE audit ADD COLUMN collection_id INTEGER;
    UPDATE audit SET collection_id = coalesce(
        (SELECT q.collection_id FROM quotes q WHERE q.id = CAST(audit.target_id AS INTEGER)),
        (SELECT so.collection_id FROM sources so
          WHERE so.slug = json_extract(audit.before_json, '$.source')),
        1)
    WHERE target_kind = 'quote';

    INSERT INTO collections (name, kind, platform, workspace)
    SELECT platform || ':' || workspace, 'library', platform, workspace FROM (
        SELECT platform, workspace FROM subscriptions
        UNION SELECT platform, workspace FROM channel_settings
    ) WHERE platform NOT IN ('cli', 'console', 'local');
    INSERT INTO library_collections (platform, workspace, collection_id)
    SELECT platform, workspace, 2 FROM collections WHERE kind = 'library'
    UNION ALL
    SELECT platform, workspace, 1 FROM collections WHERE kind = 'library' AND id <> 1;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# Quotes scoring at least this (bot.ingest.quotability) are worth reading on their own: the
# partial indexes below hold only those, and queries repeat this same literal (not a
# parameter) so that SQLite can use them.
GOOD_QUOTABILITY = 0.5

# Indexes on random keys. Inserting into them costs a random page each; a bulk load into an
# empty library drops them and builds them once at the end, by sorting (1M quotes: about a
# third of the writer's time saved). Database.open recreates any that are missing, so a
# load killed half-way leaves a slower, never a wrong, database.
# Every draw is within a library's collections (migration 6): keyed by collection first.
RANDOM_INDEXES: dict[str, str] = {
    "quotes_good":
        "CREATE INDEX IF NOT EXISTS quotes_good ON quotes (collection_id, rand_key) "
        f"WHERE quotability >= {GOOD_QUOTABILITY}",
    "quotes_good_by_speaker":
        "CREATE INDEX IF NOT EXISTS quotes_good_by_speaker ON quotes "
        f"(collection_id, speaker_id, rand_key) WHERE quotability >= {GOOD_QUOTABILITY}",
}

# Collections migration 6 creates: the operator's own library and the bundled transcripts.
OPERATOR_COLLECTION = 1
BUNDLED_COLLECTION = 2
