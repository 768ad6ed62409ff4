//! Ticket size: the user's real Kerberos token for the device's SPNs measured in base64 (as AMT
//! measures it) against the limits of the device's firmware, and, for users who have not signed
//! in, an estimate from their group memberships (Microsoft KB327825, the TokenSZ formula).

use shared::{CheckFamily, Finding, Severity};

/// AMT 2.x–5.x: HTTP (SOAP/WS-Man) tokens at most this long in base64.
pub const OLD_HTTP_LIMIT_B64: usize = 4096;
/// AMT 2.x–5.x: redirection (SOL/IDER) tokens at most this long in base64.
pub const OLD_REDIRECTION_LIMIT_B64: usize = 3072;

/// Which device service a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// SOAP/WS-Management, `HTTP/<fqdn>:16992` (16993 with TLS).
    Http,
    /// Redirection (serial console, IDE-R), `HTTP/<fqdn>:16994` (16995 with TLS).
    Redirection,
}

impl Service {
    /// The device port of the service (without TLS).
    pub fn port(self) -> u16 {
        match self {
            Service::Http => 16992,
            Service::Redirection => 16994,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Service::Http => "device management (HTTP)",
            Service::Redirection => "the serial console (redirection)",
        }
    }
}

/// What is known of a firmware's token limit for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many base64 characters.
    Base64(usize),
    /// No limit is documented for this firmware generation.
    NoneKnown,
    /// The firmware version is not known, so neither is the limit.
    UnknownVersion,
}

/// The major version of an AMT version string ("5.2.10" → 5).
pub fn major(amt_version: &str) -> Option<u32> {
    amt_version.trim().split('.').next()?.parse().ok()
}

/// The documented limit of firmware `amt_version` for `service` (BLOG-KRB: AMT 2–5, 4 KB HTTP,
/// 3 KB redirection; nothing published for later releases).
pub fn limit_for(amt_version: Option<&str>, service: Service) -> Limit {
    match amt_version.and_then(major) {
        None => Limit::UnknownVersion,
        Some(2..=5) => Limit::Base64(match service {
            Service::Http => OLD_HTTP_LIMIT_B64,
            Service::Redirection => OLD_REDIRECTION_LIMIT_B64,
        }),
        Some(_) => Limit::NoneKnown,
    }
}

/// Base64 length of `bytes` (AMT's unit).
pub fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// Shown with every too-large finding: what shrinks the ticket.
const SHRINK: &str = "Remove the user from groups they do not need (each group adds about 8 bytes to the ticket, \
    domain-local and other-domain groups about 40), or manage this device with an account in fewer groups; \
    firmware 6.0 and later has no documented limit, so updating the device's firmware also helps.";

/// Judges a measured or estimated token of `b64` base64 characters for `service` (`spn`) on a
/// device with `amt_version`. `estimate` labels the figure as a TokenSZ estimate.
pub fn judge(b64: usize, service: Service, spn: &str, amt_version: Option<&str>, estimate: bool) -> Finding {
    let what = if estimate {
        "Estimated token (TokenSZ formula, not measured)"
    } else {
        "Your Kerberos token"
    };
    let version = amt_version.unwrap_or("unknown");
    let code = |c: &str| format!("{c}_{}", service.port());
    let (severity, code, title, limit_words, fix) = match limit_for(amt_version, service) {
        Limit::Base64(limit) if b64 > limit => (
            Severity::Problem,
            code("ticket_too_large"),
            format!("Ticket too large for {}: the device will refuse it", service.words()),
            format!("limit of AMT {version}: {limit}"),
            SHRINK.to_string(),
        ),
        Limit::Base64(limit) if b64 * 10 > limit * 9 => (
            Severity::Warning,
            code("ticket_near_limit"),
            format!("Ticket close to the limit for {}", service.words()),
            format!("limit of AMT {version}: {limit}"),
            format!("A few more group memberships will break Kerberos to this device. {SHRINK}"),
        ),
        Limit::Base64(limit) => (
            Severity::Ok,
            code("ticket_size_ok"),
            format!("Ticket size fits {}", service.words()),
            format!("limit of AMT {version}: {limit}"),
            String::new(),
        ),
        Limit::NoneKnown => (
            Severity::Ok,
            code("ticket_size_no_limit"),
            format!("No known ticket size limit for {}", service.words()),
            format!("AMT {version}: Intel documents no limit after 5.x"),
            String::new(),
        ),
        Limit::UnknownVersion => (
            Severity::Warning,
            code("ticket_size_unknown_firmware"),
            format!(
                "Ticket size for {} not judged: firmware version unknown",
                service.words()
            ),
            "the device's AMT version could not be read".to_string(),
            format!(
                "Refresh the device list (or open the device page) so the portal learns its AMT version; AMT 2 to 5 accept at most \
                 {OLD_HTTP_LIMIT_B64} (HTTP) and {OLD_REDIRECTION_LIMIT_B64} (redirection) base64 characters."
            ),
        ),
    };
    Finding {
        family: CheckFamily::TicketSize,
        code,
        severity,
        title,
        measured: format!("{what} for {spn}: {b64} base64 characters; {limit_words}"),
        fix,
    }
}

/// Group counts for the TokenSZ formula (KB327825): `d` = domain-local groups, universal groups
/// of other domains and SID history entries (40 bytes each); `s` = global groups and universal
/// groups of the user's domain (8 bytes each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// The 40-byte kind.
    pub d: usize,
    /// The 8-byte kind.
    pub s: usize,
}

/// `groupType` flag: global group.
pub const GROUP_GLOBAL: i64 = 0x2;
/// `groupType` flag: domain-local group (also builtin groups).
pub const GROUP_DOMAIN_LOCAL: i64 = 0x4;
/// `groupType` flag: universal group.
pub const GROUP_UNIVERSAL: i64 = 0x8;

/// The kind of one SID in a user's token: the group's `groupType` when the directory knew it,
/// and whether the SID is of the user's own domain.
pub fn counts_from(groups: &[(Option<i64>, bool)], sid_history: usize) -> GroupCounts {
    let mut c = GroupCounts { d: sid_history, s: 0 };
    for (group_type, own_domain) in groups {
        match group_type {
            Some(t) if t & GROUP_DOMAIN_LOCAL != 0 => c.d += 1,
            Some(t) if t & GROUP_UNIVERSAL != 0 && !own_domain => c.d += 1,
            Some(t) if t & (GROUP_GLOBAL | GROUP_UNIVERSAL) != 0 => c.s += 1,
            // Unknown to this directory: a group of another domain.
            _ => c.d += 1,
        }
    }
    c
}

/// KB327825's token size in bytes: `1200 + 40·d + 8·s`.
pub fn tokensz_bytes(c: GroupCounts) -> usize {
    1200 + 40 * c.d + 8 * c.s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_firmware_version() {
        assert_eq!(limit_for(Some("2.1.0"), Service::Http), Limit::Base64(4096));
        assert_eq!(limit_for(Some("4.0.3"), Service::Redirection), Limit::Base64(3072));
        assert_eq!(limit_for(Some("5.2.10"), Service::Http), Limit::Base64(4096));
        assert_eq!(limit_for(Some("6.0.0"), Service::Http), Limit::NoneKnown);
        assert_eq!(limit_for(Some("16.1.25"), Service::Redirection), Limit::NoneKnown);
        assert_eq!(limit_for(Some("garbage"), Service::Http), Limit::UnknownVersion);
        assert_eq!(limit_for(None, Service::Http), Limit::UnknownVersion);
    }

    #[test]
    fn judgements() {
        let f = judge(5800, Service::Http, "HTTP/x:16992", Some("4.0.1"), false);
        assert_eq!(
            (f.severity, f.code.as_str()),
            (Severity::Problem, "ticket_too_large_16992")
        );
        assert!(
            f.measured.contains("5800 base64 characters; limit of AMT 4.0.1: 4096"),
            "{}",
            f.measured
        );
        assert!(f.fix.contains("groups"));
        // 3500 fits HTTP (4096) but not redirection (3072).
        assert_eq!(
            judge(3500, Service::Http, "HTTP/x:16992", Some("4.0.1"), false).severity,
            Severity::Ok
        );
        assert_eq!(
            judge(3500, Service::Redirection, "HTTP/x:16994", Some("4.0.1"), false).severity,
            Severity::Problem
        );
        assert_eq!(
            judge(3900, Service::Http, "HTTP/x:16992", Some("4.0.1"), false).severity,
            Severity::Warning
        );
        let f = judge(9000, Service::Http, "HTTP/x:16992", Some("11.8.50"), true);
        assert_eq!(f.severity, Severity::Ok);
        assert!(f.measured.starts_with("Estimated token (TokenSZ formula"));
        assert!(f.measured.contains("no limit after 5.x"));
        assert_eq!(
            judge(100, Service::Http, "HTTP/x:16992", None, false).severity,
            Severity::Warning
        );
    }

    #[test]
    fn tokensz_formula() {
        assert_eq!(tokensz_bytes(GroupCounts::default()), 1200);
        assert_eq!(tokensz_bytes(GroupCounts { d: 2, s: 10 }), 1200 + 80 + 80);
        let global_own = (Some(0x8000_0002_u32 as i32 as i64), true);
        let local = (Some(0x8000_0004_u32 as i32 as i64), true);
        let universal_own = (Some(0x8000_0008_u32 as i32 as i64), true);
        let universal_other = (Some(0x8000_0008_u32 as i32 as i64), false);
        let foreign = (None, false);
        let c = counts_from(&[global_own, local, universal_own, universal_other, foreign], 1);
        assert_eq!(c, GroupCounts { d: 4, s: 2 });
        // 400 global groups: over AMT 2–5's 4 KB in base64; 3 groups: far under.
        let frank = tokensz_bytes(counts_from(&vec![global_own; 400], 0));
        assert!(base64_len(frank) > OLD_HTTP_LIMIT_B64);
        let alice = tokensz_bytes(counts_from(&[global_own; 3], 0));
        assert!(base64_len(alice) < OLD_HTTP_LIMIT_B64);
    }
}
