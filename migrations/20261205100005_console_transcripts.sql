-- Console transcripts (issue 5): what a device's serial console showed during a session, kept
-- only for devices whose policy says so (devices.keep_console_transcripts, set by registry
-- administrators). Only the device's output is kept, never the keystrokes: a password typed at
-- a prompt that does not echo it never reaches the transcript.
ALTER TABLE devices ADD COLUMN keep_console_transcripts INTEGER NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS console_transcripts (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    device_fqdn TEXT    NOT NULL,
    principal   TEXT    NOT NULL,
    started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    ended_at    TEXT,
    end_reason  TEXT,
    bytes       INTEGER NOT NULL DEFAULT 0,
    truncated   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS console_transcripts_device ON console_transcripts (device_id, id);

-- The output in arrival order, a chunk a row (written while the console runs, so a portal that
-- stops loses at most the last unwritten chunk).
CREATE TABLE IF NOT EXISTS console_transcript_chunks (
    transcript_id INTEGER NOT NULL REFERENCES console_transcripts (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    PRIMARY KEY (transcript_id, seq)
);
