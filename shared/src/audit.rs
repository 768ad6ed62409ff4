//! The portal's own audit log as the `/audit` page shows it: a filter, a page of rows, and the
//! query string the CSV export link carries (the same filter, so the file holds what is shown).

use serde::{Deserialize, Serialize};

/// Rows per page.
pub const AUDIT_PAGE_SIZE: u32 = 50;

/// What the auditor asks for. Empty fields do not filter. Times are UTC, `YYYY-MM-DD` or
/// `YYYY-MM-DDTHH:MM[:SS]`, inclusive at the precision given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Part of the principal (`alice`).
    pub user: String,
    /// Part of the device name.
    pub device: String,
    /// Part of the action text (`power`).
    pub action: String,
    /// Exact result (`ok`, `refused`, …).
    pub result: String,
    /// From this time.
    pub from: String,
    /// Up to this time.
    pub to: String,
    /// Page number, from 0.
    pub page: u32,
}

impl AuditFilter {
    /// The filter as a URL query string (`user=alice&action=power`), page left out.
    pub fn to_query(&self) -> String {
        [
            ("user", &self.user),
            ("device", &self.device),
            ("action", &self.action),
            ("result", &self.result),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// Checks the time bounds; the sentence says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("from", &self.from), ("to", &self.to)] {
            let v = v.trim();
            if !v.is_empty() && !is_time_prefix(v) {
                return Err(format!(
                    "the \"{name}\" time {v:?} is not a UTC date or time such as 2026-12-05 or 2026-12-05T14:30"
                ));
            }
        }
        Ok(())
    }
}

/// True for `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` and `YYYY-MM-DDTHH:MM:SS` (a space may replace `T`).
pub fn is_time_prefix(s: &str) -> bool {
    let pattern = "dddd-dd-ddTdd:dd:dd";
    if !matches!(s.len(), 10 | 16 | 19) {
        return false;
    }
    s.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
        b'd' => c.is_ascii_digit(),
        b'T' => c == b'T' || c == b' ',
        other => c == other,
    })
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Row id.
    pub id: i64,
    /// When (UTC).
    pub at: String,
    /// Who.
    pub principal: Option<String>,
    /// What.
    pub action: String,
    /// Which device (or other target).
    pub target: Option<String>,
    /// Result.
    pub result: String,
    /// Detail (the refusal's sentence, …).
    pub detail: Option<String>,
}

/// One page of rows and the count of all matching rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The rows, newest first.
    pub rows: Vec<AuditRow>,
    /// Rows matching the filter.
    pub total: i64,
    /// This page, from 0.
    pub page: u32,
    /// Rows per page.
    pub page_size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_and_validation() {
        let f = AuditFilter {
            user: "alice".into(),
            action: "power: reset & more".into(),
            from: "2026-12-05".into(),
            ..Default::default()
        };
        assert_eq!(
            f.to_query(),
            "user=alice&action=power%3A%20reset%20%26%20more&from=2026-12-05"
        );
        assert!(f.validate().is_ok());
        assert!(is_time_prefix("2026-12-05T14:30"));
        assert!(is_time_prefix("2026-12-05 14:30:59"));
        assert!(!is_time_prefix("2026-12-05T14"));
        assert!(!is_time_prefix("'; DROP TABLE"));
        let bad = AuditFilter {
            to: "yesterday".into(),
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("\"to\" time"));
    }
}
