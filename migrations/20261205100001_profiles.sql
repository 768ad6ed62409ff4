-- Provisioning profiles (shared/src/profiles.rs): which AD users and groups get which AMT realms
-- on a device, where its AD computer object lives, and the device settings applied with it.
-- Enumerations are stored by their stable ids (`TlsPolicy::id`, `ConsentPolicy::id`, …).
CREATE TABLE IF NOT EXISTS profiles (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    description             TEXT    NOT NULL DEFAULT '',
    device_ou               TEXT    NOT NULL,                   -- DN of the OU for computer objects
    clock_tolerance_minutes INTEGER NOT NULL CHECK (clock_tolerance_minutes BETWEEN 1 AND 5),
    tls                     TEXT    NOT NULL CHECK (tls IN ('off', 'preferred', 'required')),
    redirection_sol         INTEGER NOT NULL CHECK (redirection_sol IN (0, 1)),
    redirection_storage     INTEGER NOT NULL CHECK (redirection_storage IN (0, 1)),
    redirection_kvm         INTEGER NOT NULL CHECK (redirection_kvm IN (0, 1)),
    consent                 TEXT    NOT NULL CHECK (consent IN ('none', 'kvm', 'all')),
    time_sync_hours         INTEGER NOT NULL CHECK (time_sync_hours BETWEEN 1 AND 168),
    updated_by              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- A profile's Kerberos ACL entries, in the order the editor shows them (at most 32, checked by
-- the portal). Stored by SID; `name` is what the directory called it when it was picked.
CREATE TABLE IF NOT EXISTS profile_acl_entries (
    profile_id  INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 31),
    sid         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'group')),
    realms      TEXT    NOT NULL,                               -- AMT realm numbers, comma-separated: '5,2,13'
    access      INTEGER NOT NULL CHECK (access IN (0, 1, 2)),   -- AMT AccessPermission: local, network, both
    PRIMARY KEY (profile_id, position),
    UNIQUE (profile_id, sid)
);

-- The profile a device is provisioned with (none until one is assigned). A profile that devices
-- use cannot be deleted (the portal names them first; RESTRICT is the backstop).
ALTER TABLE devices ADD COLUMN profile_id INTEGER REFERENCES profiles (id) ON DELETE RESTRICT;
CREATE INDEX IF NOT EXISTS devices_profile ON devices (profile_id);
