//! Figures gathered over repeated runs, printed as one Markdown table: min / median / max
//! per figure and server, and the ratio of medians ours/theirs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::server::Kind;

pub(crate) const COLUMNS: [Kind; 3] = [Kind::Ours, Kind::Moto, Kind::LocalStack];

#[derive(Debug, Default)]
pub(crate) struct Table {
    /// Figure names in the order first recorded.
    order: Vec<String>,
    values: BTreeMap<(String, usize), Vec<f64>>,
    notes: BTreeMap<(String, usize), String>,
    /// Why a whole column is empty.
    column_notes: BTreeMap<usize, String>,
    /// Figures whose ratio would mislead (e.g. totals over different counts).
    no_ratio: Vec<String>,
}

fn col(kind: Kind) -> usize {
    COLUMNS.iter().position(|k| *k == kind).unwrap_or(0)
}

impl Table {
    fn touch(&mut self, figure: &str) {
        if !self.order.iter().any(|f| f == figure) {
            self.order.push(figure.to_owned());
        }
    }

    pub(crate) fn record(&mut self, figure: &str, kind: Kind, value: f64) {
        self.touch(figure);
        self.values
            .entry((figure.to_owned(), col(kind)))
            .or_default()
            .push(value);
    }

    /// A cell that has no number, and why ("n/a: in-memory").
    pub(crate) fn note(&mut self, figure: &str, kind: Kind, text: &str) {
        self.touch(figure);
        self.notes
            .insert((figure.to_owned(), col(kind)), text.to_owned());
    }

    /// Shows `figure` without a ratio column: its servers ran different counts.
    pub(crate) fn without_ratio(&mut self, figure: &str) {
        self.no_ratio.push(figure.to_owned());
    }

    pub(crate) fn note_column(&mut self, kind: Kind, text: &str) {
        self.column_notes.insert(col(kind), text.to_owned());
    }

    pub(crate) fn values(&self, figure: &str, kind: Kind) -> &[f64] {
        self.values
            .get(&(figure.to_owned(), col(kind)))
            .map_or(&[], Vec::as_slice)
    }

    /// The table with the `Kind::Ours` column first, then each of `others` with the
    /// ratio of medians first/other; `labels` names the columns.
    pub(crate) fn render(&self, labels: &[(Kind, &str)]) -> String {
        let label = |kind: Kind| {
            labels
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(kind.label(), |(_, l)| *l)
        };
        let others: Vec<Kind> = labels
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != Kind::Ours)
            .collect();
        let ours = label(Kind::Ours);
        let mut out = String::new();
        let mut header = format!("| figure | {ours} |");
        let mut rule = String::from("|---|---:|");
        for kind in &others {
            let _ = write!(header, " {} | {ours} / {} |", label(*kind), label(*kind));
            rule.push_str("---:|---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for figure in &self.order {
            let _ = write!(out, "| {figure} | {} |", self.cell(figure, Kind::Ours));
            for kind in &others {
                let ratio = match (
                    median(self.values(figure, Kind::Ours)),
                    median(self.values(figure, *kind)),
                ) {
                    _ if self.no_ratio.contains(figure) => String::new(),
                    (Some(a), Some(b)) if b != 0.0 => format!("{}×", ratio(a / b)),
                    _ => String::new(),
                };
                let _ = write!(out, " {} | {ratio} |", self.cell(figure, *kind));
            }
            out.push('\n');
        }
        for kind in others {
            if let Some(text) = self.column_notes.get(&col(kind)) {
                let _ = writeln!(out, "\n{}: {text}", label(kind));
            }
        }
        out
    }

    fn cell(&self, figure: &str, kind: Kind) -> String {
        let values = self.values(figure, kind);
        if let Some(mid) = median(values) {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if values.len() == 1 {
                return num(mid);
            }
            return format!("{} / {} / {}", num(min), num(mid), num(max));
        }
        if let Some(note) = self.notes.get(&(figure.to_owned(), col(kind))) {
            return note.clone();
        }
        if self.column_notes.contains_key(&col(kind)) {
            return "not run".to_owned();
        }
        "–".to_owned()
    }
}

pub(crate) fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The `q` quantile (0..=1) of already sorted values, nearest rank.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Three significant digits, thousands separated: 12,300 / 123 / 12.3 / 1.23 / 0.123.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let a = x.abs();
    if a >= 1000.0 {
        let digits = a.log10().floor() as i32 + 1;
        let scale = 10f64.powi(digits - 3);
        let rounded = ((x / scale).round() * scale) as i64;
        return group(rounded);
    }
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// Three significant digits (at least none after the point): 123 / 12.3 / 0.0123.
fn ratio(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "–".to_owned();
    }
    let decimals = (2 - x.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(num(123_456.0), "123,000");
        assert_eq!(num(2_345.6), "2,350");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(0.01234), "0.012");
    }

    #[test]
    fn median_and_quantiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&sorted, 0.5), 50.0);
        assert_eq!(quantile(&sorted, 0.99), 99.0);
    }

    #[test]
    fn the_table_shows_min_median_max_and_the_ratio() {
        let mut t = Table::default();
        for v in [1.0, 3.0, 2.0] {
            t.record("executions/s", Kind::Ours, v * 100.0);
            t.record("executions/s", Kind::Moto, v * 10.0);
        }
        t.note("restart, s", Kind::Moto, "n/a: in-memory");
        let text = t.render(&[(Kind::Ours, "ours"), (Kind::Moto, "moto")]);
        assert!(
            text.contains("| executions/s | 100 / 200 / 300 | 10.0 / 20.0 / 30.0 | 10.0× |"),
            "{text}"
        );
        assert!(text.contains("n/a: in-memory"), "{text}");
    }
}
