-- Active Directory settings edited on /settings/ad (one row; without it the portal uses its
-- configuration: PORTAL_LDAP_URL, PORTAL_LDAP_BASE_DN, PORTAL_DEVICE_OU). The simple-bind password
-- is sealed (AES-256-GCM, key from PORTAL_SECRET_KEY_FILE, "ad-bind-password" as associated data):
-- never in clear.
CREATE TABLE IF NOT EXISTS ad_settings (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    domain_controllers TEXT    NOT NULL, -- one per line: URL [DNS name]
    base_dn            TEXT    NOT NULL,
    device_ou          TEXT    NOT NULL,
    bind_method        TEXT    NOT NULL, -- kerberos | simple-tls | simple-plain
    bind_user          TEXT    NOT NULL DEFAULT '',
    bind_password      BLOB,             -- sealed: 12-byte nonce || ciphertext and tag
    allow_insecure     INTEGER NOT NULL DEFAULT 0,
    ca_file            TEXT    NOT NULL DEFAULT '',
    approver_groups    TEXT    NOT NULL DEFAULT '', -- one per line: name or SID
    saved_by           TEXT    NOT NULL,
    saved_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
