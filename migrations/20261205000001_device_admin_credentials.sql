-- Digest admin accounts of devices not yet provisioned for Kerberos, for the explicit, audited
-- admin mode. The password is sealed (AES-256-GCM, key from PORTAL_SECRET_KEY_FILE, the device's
-- FQDN as associated data so a sealed value cannot be moved to another device): never in clear.
CREATE TABLE IF NOT EXISTS device_admin_credentials (
    device_id   INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    username    TEXT    NOT NULL,
    sealed      BLOB    NOT NULL, -- 12-byte nonce || ciphertext and tag
    set_by      TEXT    NOT NULL,
    set_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
