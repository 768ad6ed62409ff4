//! Searching, filtering, sorting and paging the fleet list, in memory.
//!
//! The registry and the last known status of every device are held in memory ([`super::Fleet`]),
//! so a query over 10,000 devices is a scan and a sort of plain structs: no database round trip
//! per keystroke in the search box. Pure functions, unit-tested here and measured by
//! `server/examples/fleet_bench.rs`.

use std::cmp::Ordering;

use shared::{FleetPage, FleetQuery, FleetRow, Health, HealthCounts, MAX_PAGE_SIZE, SortKey};

/// Compares AMT versions numerically ("16.1.25" > "9.0.1"); unknown versions sort last.
fn cmp_version(a: Option<&str>, b: Option<&str>) -> Ordering {
    let parts = |v: &str| -> Vec<u64> { v.split(['.', '-']).map(|p| p.parse().unwrap_or(0)).collect() };
    match (a, b) {
        (Some(a), Some(b)) => parts(a).cmp(&parts(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Whether every word of the (lower-cased) search appears in one of the row's text fields.
fn matches(row: &FleetRow, words: &[String]) -> bool {
    words.iter().all(|w| {
        [
            Some(row.fqdn.as_str()),
            Some(row.site.as_str()),
            Some(row.tags.as_str()),
            row.amt_version.as_deref(),
            row.error.as_deref(),
            row.power.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|f| contains_ignore_case(f, w))
    })
}

fn contains_ignore_case(haystack: &str, lower_needle: &str) -> bool {
    if haystack.is_ascii() && lower_needle.is_ascii() {
        haystack
            .as_bytes()
            .windows(lower_needle.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(lower_needle.as_bytes()))
    } else {
        haystack.to_lowercase().contains(lower_needle)
    }
}

/// Counts of every state over `rows`, zeros included.
pub fn counts<'a>(rows: impl Iterator<Item = &'a FleetRow>) -> HealthCounts {
    let mut n = [0usize; Health::ALL.len()];
    for r in rows {
        if let Some(i) = Health::ALL.iter().position(|h| *h == r.health) {
            n[i] += 1;
        }
    }
    HealthCounts {
        counts: Health::ALL.into_iter().zip(n).collect(),
    }
}

/// Runs `q` over `rows`: filter, sort (ties by FQDN, so paging is stable), page.
pub fn run(rows: &[FleetRow], q: &FleetQuery) -> FleetPage {
    let words: Vec<String> = q.search.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<&FleetRow> = rows
        .iter()
        .filter(|r| q.health.is_none_or(|h| r.health == h))
        .filter(|r| words.is_empty() || matches(r, &words))
        .collect();
    hits.sort_by(|a, b| {
        let primary = match q.sort {
            SortKey::Name => Ordering::Equal,
            SortKey::Site => a.site.to_lowercase().cmp(&b.site.to_lowercase()),
            SortKey::Health => a.health.cmp(&b.health),
            SortKey::AmtVersion => cmp_version(a.amt_version.as_deref(), b.amt_version.as_deref()),
            SortKey::CheckedAt => a.checked_at.cmp(&b.checked_at),
        };
        let o = primary.then_with(|| a.fqdn.cmp(&b.fqdn));
        if q.descending { o.reverse() } else { o }
    });
    let page_size = q.page_size.clamp(1, MAX_PAGE_SIZE);
    let last_page = (hits.len().saturating_sub(1) / page_size as usize) as u32;
    let page = q.page.min(last_page);
    let start = page as usize * page_size as usize;
    FleetPage {
        rows: hits
            .iter()
            .skip(start)
            .take(page_size as usize)
            .map(|r| (*r).clone())
            .collect(),
        total: rows.len(),
        matching: hits.len(),
        page,
        page_size,
        counts: counts(rows.iter()),
        refresh: None,
        can_manage: false,
        discovery_configured: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize, health: Health, version: Option<&str>, site: &str) -> FleetRow {
        FleetRow {
            id: n as i64,
            fqdn: format!("amt{n}.example.test"),
            site: site.into(),
            tags: if n.is_multiple_of(2) {
                "even".into()
            } else {
                String::new()
            },
            health,
            power: None,
            amt_version: version.map(str::to_string),
            control_mode: None,
            error: (health == Health::Unreachable).then(|| "did not answer within 10 s".to_string()),
            checked_at: None,
        }
    }

    fn fleet() -> Vec<FleetRow> {
        vec![
            row(1, Health::On, Some("16.1.25"), "Paris"),
            row(2, Health::Unreachable, None, "Lyon"),
            row(3, Health::Off, Some("4.2.0"), "paris"),
            row(4, Health::On, Some("9.0.1"), "Lyon"),
            row(10, Health::Unknown, None, ""),
        ]
    }

    fn names(p: &FleetPage) -> Vec<&str> {
        p.rows
            .iter()
            .map(|r| r.fqdn.split('.').next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn search_words_all_match_any_field_ignoring_case() {
        let f = fleet();
        let q = |s: &str| {
            run(
                &f,
                &FleetQuery {
                    search: s.into(),
                    ..FleetQuery::default()
                },
            )
        };
        assert_eq!(names(&q("PARIS")), vec!["amt1", "amt3"]);
        assert_eq!(names(&q("paris 16.")), vec!["amt1"]);
        assert_eq!(names(&q("even lyon")), vec!["amt2", "amt4"]);
        assert_eq!(names(&q("answer")), vec!["amt2"], "the last error is searchable");
        assert_eq!(q("nothing-like-this").matching, 0);
        assert_eq!(q("").matching, 5);
    }

    #[test]
    fn filter_sort_and_counts() {
        let f = fleet();
        let on = run(
            &f,
            &FleetQuery {
                health: Some(Health::On),
                ..FleetQuery::default()
            },
        );
        assert_eq!(names(&on), vec!["amt1", "amt4"]);
        assert_eq!(
            on.counts.get(Health::On),
            2,
            "counts cover the whole fleet, not the filter"
        );
        assert_eq!(on.counts.get(Health::Unreachable), 1);
        assert_eq!(on.counts.get(Health::Error), 0);
        let by_version = run(
            &f,
            &FleetQuery {
                sort: SortKey::AmtVersion,
                ..FleetQuery::default()
            },
        );
        assert_eq!(
            names(&by_version),
            vec!["amt3", "amt4", "amt1", "amt10", "amt2"],
            "numeric, unknown last"
        );
        let desc = run(
            &f,
            &FleetQuery {
                sort: SortKey::Name,
                descending: true,
                ..FleetQuery::default()
            },
        );
        assert_eq!(names(&desc), vec!["amt4", "amt3", "amt2", "amt10", "amt1"]);
        let by_site = run(
            &f,
            &FleetQuery {
                sort: SortKey::Site,
                ..FleetQuery::default()
            },
        );
        assert_eq!(
            names(&by_site),
            vec!["amt10", "amt2", "amt4", "amt1", "amt3"],
            "case-insensitive, ties by name"
        );
    }

    #[test]
    fn paging_is_clamped_and_stable() {
        let f = fleet();
        let p = run(
            &f,
            &FleetQuery {
                page: 1,
                page_size: 2,
                ..FleetQuery::default()
            },
        );
        assert_eq!((names(&p), p.page, p.matching), (vec!["amt2", "amt3"], 1, 5));
        let past = run(
            &f,
            &FleetQuery {
                page: 99,
                page_size: 2,
                ..FleetQuery::default()
            },
        );
        assert_eq!(
            (names(&past), past.page),
            (vec!["amt4"], 2),
            "a page past the end shows the last one"
        );
        let zero = run(
            &f,
            &FleetQuery {
                page_size: 0,
                ..FleetQuery::default()
            },
        );
        assert_eq!(zero.page_size, 1);
        let none = run(&[], &FleetQuery::default());
        assert_eq!((none.rows.len(), none.page, none.total), (0, 0, 0));
    }
}
