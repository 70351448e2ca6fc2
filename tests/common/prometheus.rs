//! Reads one sample out of Prometheus' text exposition format.

use std::collections::BTreeMap;

/// The value of the sample `name{labels}` (exactly those labels) in `text`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
        if metric != name {
            return None;
        }
        let found: BTreeMap<&str, &str> = rest
            .trim_end_matches('}')
            .split(',')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                Some((key, value.trim_matches('"')))
            })
            .collect();
        (found == wanted).then(|| value.parse().ok()).flatten()
    })
}

/// `encrypted_fields_operations_total` for these labels, if rendered.
pub fn operations(
    text: &str,
    operation: &str,
    alias: &str,
    key_id: &str,
    outcome: &str,
) -> Option<f64> {
    sample(
        text,
        "encrypted_fields_operations_total",
        &[
            ("operation", operation),
            ("alias", alias),
            ("key_id", key_id),
            ("outcome", outcome),
        ],
    )
}
