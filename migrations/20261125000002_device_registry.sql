-- The device registry: the only source of addresses the portal ever connects to (no SSRF).
CREATE TABLE IF NOT EXISTS devices (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    fqdn             TEXT    NOT NULL UNIQUE COLLATE NOCASE, -- name in the device's SPNs HTTP/<fqdn>:<port>
    address          TEXT    NOT NULL,                       -- IP or DNS name the portal connects to
    wsman_port       INTEGER NOT NULL DEFAULT 16992 CHECK (wsman_port BETWEEN 1 AND 65535),
    tls              INTEGER NOT NULL DEFAULT 0 CHECK (tls IN (0, 1)),
    site             TEXT    NOT NULL DEFAULT '',
    tags             TEXT    NOT NULL DEFAULT '',            -- comma-separated
    source           TEXT    NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'csv', 'ad')),
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS devices_site ON devices (site);
