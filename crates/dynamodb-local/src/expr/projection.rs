//! Projection expressions: the document paths a read returns, none of them
//! overlapping another (the same rule holds for an update's targets).

use super::Placeholders;
use super::parser::Parser;
use super::resolve::Resolver;
use crate::value::{Path, path_text};

/// Parses a ProjectionExpression: paths separated by commas.
pub fn parse_projection(text: &str, ph: &mut Placeholders) -> Result<Vec<Path>, String> {
    let mut p = Parser::new(text)?;
    let raw = p.comma_list(Parser::path)?;
    p.expect_eof()?;
    let mut r = Resolver::default();
    let paths: Vec<Path> = raw.iter().map(|path| r.path(path, ph)).collect();
    let paths = r.finish(paths)?;
    check_overlaps(&paths)?;
    Ok(paths)
}

pub(super) fn check_overlaps(paths: &[Path]) -> Result<(), String> {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let n = a.len().min(b.len());
            if a[..n] == b[..n] {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    path_text(a),
                    path_text(b)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::test_support::ph;
    use serde_json::json;

    #[test]
    fn projections_name_paths_and_refuse_overlaps() {
        let mut p = ph(&[("#t", "token")], json!({}));
        let paths = parse_projection("pk, #t, m.x[0]", &mut p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(paths.len(), 3);
        let mut p = ph(&[], json!({}));
        assert!(parse_projection("a, a.b", &mut p).is_err());
        let mut p = ph(&[], json!({}));
        assert_eq!(
            parse_projection("status", &mut p),
            Err("Attribute name is a reserved keyword; reserved keyword: status".to_owned())
        );
    }
}
