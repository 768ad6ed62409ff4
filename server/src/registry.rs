//! The device registry (table `devices`): the only place device addresses come from.
//!
//! Devices are added one by one or imported from CSV; every field is validated, a bad CSV row
//! is reported with its line number and reason while the good rows are kept. Discovery
//! from the AD OU adds rows with `source = 'ad'`. The portal never connects to an address that
//! is not in this table.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

/// A device as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Device {
    /// Row id.
    pub id: i64,
    /// The device's DNS name, as in its SPNs.
    pub fqdn: String,
    /// What the portal connects to.
    pub address: String,
    /// WS-Management port (16992 plain, 16993 TLS).
    pub wsman_port: i64,
    /// Whether WS-Management uses TLS.
    pub tls: bool,
    /// Site or location.
    pub site: String,
    /// Comma-separated tags.
    pub tags: String,
    /// manual, csv or ad.
    pub source: String,
}

impl From<&Device> for shared::DeviceRow {
    fn from(d: &Device) -> Self {
        shared::DeviceRow {
            id: d.id,
            fqdn: d.fqdn.clone(),
            site: d.site.clone(),
            tags: d.tags.clone(),
        }
    }
}

/// A device to add, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// Lower-case FQDN.
    pub fqdn: String,
    /// IP address or DNS name.
    pub address: String,
    /// Port.
    pub wsman_port: u16,
    /// TLS on.
    pub tls: bool,
    /// Site.
    pub site: String,
    /// Tags, normalised.
    pub tags: String,
}

fn valid_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl NewDevice {
    /// Validates raw fields; the error names the field and what is wrong with it.
    pub fn parse(
        fqdn: &str,
        address: &str,
        port: &str,
        tls: &str,
        site: &str,
        tags: &str,
    ) -> Result<NewDevice, String> {
        let fqdn = fqdn.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_dns_name(&fqdn) {
            return Err(format!(
                "fqdn {fqdn:?} is not a fully qualified DNS name (like amt1.example.com): Kerberos needs it for the SPN HTTP/<fqdn>:16992"
            ));
        }
        let address = match address.trim() {
            "" => fqdn.clone(),
            a if a.parse::<IpAddr>().is_ok() || valid_dns_name(&a.to_ascii_lowercase()) => a.to_ascii_lowercase(),
            a => return Err(format!("address {a:?} is neither an IP address nor a DNS name")),
        };
        let tls = match tls.trim().to_ascii_lowercase().as_str() {
            "" | "no" | "false" | "0" => false,
            "yes" | "true" | "1" => true,
            other => return Err(format!("tls {other:?}: use yes or no")),
        };
        let wsman_port = match port.trim() {
            "" => {
                if tls {
                    16993
                } else {
                    16992
                }
            }
            p => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("port {p:?} is not a port number (1-65535)"))?,
        };
        let site = site.trim();
        if site.len() > 100 || site.chars().any(char::is_control) {
            return Err("site must be at most 100 printable characters".into());
        }
        let tags: Vec<&str> = tags
            .split([',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if tags.iter().any(|t| t.len() > 50 || t.chars().any(char::is_control)) {
            return Err("each tag must be at most 50 printable characters".into());
        }
        Ok(NewDevice {
            fqdn,
            address,
            wsman_port,
            tls,
            site: site.to_string(),
            tags: tags.join(","),
        })
    }
}

/// Outcome of a CSV import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Rows added.
    pub added: usize,
    /// Rows that updated an existing device (same FQDN).
    pub updated: usize,
    /// Rejected rows: (line number, reason). The other rows were kept.
    pub rejected: Vec<(usize, String)>,
}

/// Adds or updates (by FQDN) one device; returns true when it was new.
pub async fn upsert(pool: &SqlitePool, d: &NewDevice, source: &str) -> Result<bool, sqlx::Error> {
    let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM devices WHERE fqdn = ?")
        .bind(&d.fqdn)
        .fetch_optional(pool)
        .await?;
    sqlx::query(
        "INSERT INTO devices (fqdn, address, wsman_port, tls, site, tags, source) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (fqdn) DO UPDATE SET address = excluded.address, wsman_port = excluded.wsman_port, tls = excluded.tls,
           site = excluded.site, tags = excluded.tags, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    )
    .bind(&d.fqdn)
    .bind(&d.address)
    .bind(i64::from(d.wsman_port))
    .bind(d.tls)
    .bind(&d.site)
    .bind(&d.tags)
    .bind(source)
    .execute(pool)
    .await?;
    Ok(existed.is_none())
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if cur.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    out.push(cur);
    Ok(out)
}

/// Imports CSV with a header naming at least `fqdn` (optional: address, port, tls, site,
/// tags). Good rows are stored, bad rows reported; nothing is lost silently.
pub async fn import_csv(pool: &SqlitePool, text: &str) -> Result<ImportReport, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or("the file is empty: the first line must name the columns, e.g. fqdn,address,port,tls,site,tags")?;
    let cols: Vec<String> = csv_fields(header.trim_start_matches('\u{feff}'))?
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let idx = |name: &str| cols.iter().position(|c| c == name);
    let fqdn_col =
        idx("fqdn").ok_or("the header has no fqdn column (expected e.g. fqdn,address,port,tls,site,tags)")?;
    let known = ["fqdn", "address", "port", "tls", "site", "tags"];
    if let Some(unknown) = cols.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(format!(
            "unknown column {unknown:?}: the columns are {}",
            known.join(", ")
        ));
    }
    let mut report = ImportReport::default();
    for (n, line) in lines {
        let line_no = n + 1;
        let fields = match csv_fields(line) {
            Ok(f) => f,
            Err(e) => {
                report.rejected.push((line_no, e));
                continue;
            }
        };
        if fields.len() != cols.len() {
            report.rejected.push((
                line_no,
                format!("{} fields, but the header has {}", fields.len(), cols.len()),
            ));
            continue;
        }
        let get = |name: &str| idx(name).map(|i| fields[i].as_str()).unwrap_or("");
        match NewDevice::parse(
            &fields[fqdn_col],
            get("address"),
            get("port"),
            get("tls"),
            get("site"),
            get("tags"),
        ) {
            Ok(d) => match upsert(pool, &d, "csv").await {
                Ok(true) => report.added += 1,
                Ok(false) => report.updated += 1,
                Err(e) => report.rejected.push((line_no, format!("could not be stored: {e}"))),
            },
            Err(e) => report.rejected.push((line_no, e)),
        }
    }
    Ok(report)
}

/// Outcome of discovering devices from the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryReport {
    /// Objects found in the OU.
    pub found: usize,
    /// New devices registered.
    pub added: usize,
    /// Devices already registered (left exactly as they were).
    pub known: usize,
    /// Objects that are not usable devices: (distinguished name, reason).
    pub rejected: Vec<(String, String)>,
}

/// The device an AD computer object describes: the FQDN from its WS-Management SPN
/// (`HTTP/<fqdn>:16992`, or `:16993` for TLS only), agreeing with `dNSHostName` when set.
pub fn device_from_object(o: &crate::directory::DeviceObject) -> Result<NewDevice, String> {
    let wsman: Vec<(String, u16)> = o
        .spns
        .iter()
        .filter_map(|s| {
            let rest = s
                .get(..5)
                .filter(|p| p.eq_ignore_ascii_case("HTTP/"))
                .map(|_| &s[5..])?;
            let (host, port) = rest.rsplit_once(':')?;
            let port: u16 = port.parse().ok()?;
            matches!(port, 16992 | 16993).then(|| (host.to_ascii_lowercase(), port))
        })
        .collect();
    let Some((fqdn, _)) = wsman.first() else {
        return Err("it has no SPN HTTP/<fqdn>:16992 or :16993, so Kerberos to its AMT cannot work: register the SPNs (reprovision the device)".into());
    };
    if let Some(dns) = &o.dns_host_name
        && !dns.eq_ignore_ascii_case(fqdn)
    {
        return Err(format!(
            "its dNSHostName {dns} differs from the host in its SPNs ({fqdn}): fix the object so both name the device's AMT FQDN"
        ));
    }
    if wsman.iter().any(|(h, _)| h != fqdn) {
        return Err("its SPNs name more than one host: fix the object so they all name the device's AMT FQDN".into());
    }
    let tls_only = !wsman.iter().any(|(_, p)| *p == 16992);
    NewDevice::parse(fqdn, "", "", if tls_only { "yes" } else { "no" }, "", "ad")
}

/// Registers the devices of `objects` that are not registered yet (known FQDNs are left as the
/// operator set them: address, port, site and tags are never overwritten by discovery).
pub async fn add_discovered(
    pool: &SqlitePool,
    objects: &[crate::directory::DeviceObject],
) -> Result<DiscoveryReport, sqlx::Error> {
    let mut report = DiscoveryReport {
        found: objects.len(),
        ..DiscoveryReport::default()
    };
    for o in objects {
        match device_from_object(o) {
            Ok(d) => {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM devices WHERE fqdn = ?")
                    .bind(&d.fqdn)
                    .fetch_optional(pool)
                    .await?;
                if exists.is_some() {
                    report.known += 1;
                } else {
                    upsert(pool, &d, "ad").await?;
                    report.added += 1;
                }
            }
            Err(why) => report.rejected.push((o.dn.clone(), why)),
        }
    }
    Ok(report)
}

/// All devices, by FQDN.
pub async fn list(pool: &SqlitePool) -> Result<Vec<Device>, sqlx::Error> {
    sqlx::query_as::<_, Device>(
        "SELECT id, fqdn, address, wsman_port, tls, site, tags, source FROM devices ORDER BY fqdn",
    )
    .fetch_all(pool)
    .await
}

/// One device by id.
pub async fn get(pool: &SqlitePool, id: i64) -> Result<Option<Device>, sqlx::Error> {
    sqlx::query_as::<_, Device>(
        "SELECT id, fqdn, address, wsman_port, tls, site, tags, source FROM devices WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_says_what_is_wrong() {
        let d = NewDevice::parse("AMT1.Example.Test.", "", "", "", " Lab ", "a, b;;c").unwrap();
        assert_eq!(
            (d.fqdn.as_str(), d.address.as_str(), d.wsman_port, d.tls),
            ("amt1.example.test", "amt1.example.test", 16992, false)
        );
        assert_eq!((d.site.as_str(), d.tags.as_str()), ("Lab", "a,b,c"));
        assert_eq!(
            NewDevice::parse("amt1.example.test", "127.1.0.1", "", "yes", "", "")
                .unwrap()
                .wsman_port,
            16993
        );
        assert!(
            NewDevice::parse("amt1", "", "", "", "", "")
                .unwrap_err()
                .contains("fully qualified")
        );
        assert!(
            NewDevice::parse("amt1.example.test", "http://x/", "", "", "", "")
                .unwrap_err()
                .contains("neither an IP")
        );
        assert!(
            NewDevice::parse("amt1.example.test", "", "99999", "", "", "")
                .unwrap_err()
                .contains("port")
        );
        assert!(
            NewDevice::parse("amt1.example.test", "", "", "maybe", "", "")
                .unwrap_err()
                .contains("tls")
        );
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(
            csv_fields(r#"a,"b,c","d""e",,"#).unwrap(),
            vec!["a", "b,c", "d\"e", "", ""]
        );
        assert!(csv_fields(r#"a,"b"#).is_err());
    }

    fn object(dn: &str, dns: Option<&str>, spns: &[&str]) -> crate::directory::DeviceObject {
        crate::directory::DeviceObject {
            dn: dn.into(),
            dns_host_name: dns.map(str::to_string),
            spns: spns.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn devices_come_from_wsman_spns() {
        let d = device_from_object(&object(
            "CN=amt1",
            Some("AMT1.example.test"),
            &[
                "HTTP/amt1.example.test:16992",
                "HTTP/amt1.example.test:16993",
                "HTTP/amt1.example.test:16994",
            ],
        ))
        .unwrap();
        assert_eq!(
            (d.fqdn.as_str(), d.wsman_port, d.tls, d.tags.as_str()),
            ("amt1.example.test", 16992, false, "ad")
        );
        let tls = device_from_object(&object("CN=amt2", None, &["HTTP/amt2.example.test:16993"])).unwrap();
        assert_eq!((tls.wsman_port, tls.tls), (16993, true));
        let e = device_from_object(&object("CN=pc", Some("pc.example.test"), &["HTTP/pc.example.test"])).unwrap_err();
        assert!(e.contains("no SPN HTTP/<fqdn>:16992"), "{e}");
        let e =
            device_from_object(&object("CN=x", Some("x.example.test"), &["HTTP/y.example.test:16992"])).unwrap_err();
        assert!(e.contains("differs"), "{e}");
        let e = device_from_object(&object(
            "CN=z",
            None,
            &["HTTP/a.example.test:16992", "HTTP/b.example.test:16993"],
        ))
        .unwrap_err();
        assert!(e.contains("more than one host"), "{e}");
    }

    #[tokio::test]
    async fn discovery_adds_new_devices_and_leaves_known_ones_alone() {
        let dir = std::env::temp_dir().join(format!("registry-discovery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("d.sqlite")).await.unwrap();
        import_csv(&pool, "fqdn,address,site\namt1.example.test,127.1.0.1,Paris\n")
            .await
            .unwrap();
        let objects = [
            object("CN=amt1", Some("amt1.example.test"), &["HTTP/amt1.example.test:16992"]),
            object("CN=amt2", Some("amt2.example.test"), &["HTTP/amt2.example.test:16992"]),
            object("CN=web", Some("web.example.test"), &["HTTP/web.example.test"]),
        ];
        let r = add_discovered(&pool, &objects).await.unwrap();
        assert_eq!((r.found, r.added, r.known), (3, 1, 1));
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].0, "CN=web");
        let all = list(&pool).await.unwrap();
        assert_eq!(all[0].address, "127.1.0.1", "the operator's address is kept");
        assert_eq!(all[0].site, "Paris");
        assert_eq!(
            (all[1].fqdn.as_str(), all[1].source.as_str()),
            ("amt2.example.test", "ad")
        );
    }

    #[tokio::test]
    async fn import_keeps_good_rows_and_reports_bad_ones() {
        let dir = std::env::temp_dir().join(format!("registry-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = crate::db::open(&dir.join("r.sqlite")).await.unwrap();
        let csv = "fqdn,address,port,tls,site,tags\n\
                   amt1.example.test,127.1.0.1,,no,Lab,\"desk,floor2\"\n\
                   not a name,127.1.0.2,,,,\n\
                   amt3.example.test,127.1.0.3,70000,,,\n\
                   amt4.example.test,127.1.0.4\n\
                   \n\
                   amt5.example.test,,16993,yes,,\n";
        let r = import_csv(&pool, csv).await.unwrap();
        assert_eq!((r.added, r.updated), (2, 0));
        assert_eq!(r.rejected.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(r.rejected[2].1.contains("2 fields, but the header has 6"));
        let all = list(&pool).await.unwrap();
        assert_eq!(
            all.iter().map(|d| d.fqdn.as_str()).collect::<Vec<_>>(),
            vec!["amt1.example.test", "amt5.example.test"]
        );
        assert_eq!(all[0].tags, "desk,floor2");
        // Re-import updates by FQDN.
        let r = import_csv(&pool, "fqdn,address\namt1.example.test,127.1.0.9\n")
            .await
            .unwrap();
        assert_eq!((r.added, r.updated), (0, 1));
        assert_eq!(get(&pool, all[0].id).await.unwrap().unwrap().address, "127.1.0.9");
        assert!(import_csv(&pool, "").await.unwrap_err().contains("empty"));
        assert!(
            import_csv(&pool, "name\nx\n")
                .await
                .unwrap_err()
                .contains("no fqdn column")
        );
    }
}
