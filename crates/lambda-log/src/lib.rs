//! The deployed functions' log subscriber.
//!
//! It reads Lambda's advanced logging controls as `lambda_runtime`'s
//! `tracing::init_default_subscriber` does: the level from `AWS_LAMBDA_LOG_LEVEL`,
//! else `RUST_LOG`, else INFO; JSON lines when `AWS_LAMBDA_LOG_FORMAT` is `JSON`,
//! else tracing's text format; no target, no timestamp (CloudWatch stamps each
//! line). What it leaves out is `RUST_LOG`'s per-target directives
//! (`hitl=debug,hyper=warn`): that needs `EnvFilter`, whose regex engine (with
//! its Unicode tables) was about a tenth of each deployed zip
//! (docs/build-profile.md), so the functions build `lambda_runtime` without its
//! `tracing` feature and use this. `RUST_LOG` is read as one level.

use tracing_subscriber::filter::LevelFilter;

/// The log settings from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub level: LevelFilter,
    pub json: bool,
}

impl Settings {
    /// From `AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG` and `AWS_LAMBDA_LOG_FORMAT`.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let level = var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|| var("RUST_LOG"))
            .map_or(LevelFilter::INFO, |text| level(&text));
        let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Self { level, json }
    }
}

/// One level: Lambda's names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or
/// tracing's; anything else is INFO, as lambda_runtime reads it.
fn level(text: &str) -> LevelFilter {
    if text.trim().eq_ignore_ascii_case("fatal") {
        // tracing has no FATAL; ERROR is the closest that still logs errors.
        return LevelFilter::ERROR;
    }
    text.trim().parse().unwrap_or(LevelFilter::INFO)
}

/// Installs the subscriber for the whole process; call once, first thing in `main`.
pub fn init() {
    let settings = Settings::from_env();
    let format = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(settings.level);
    if settings.json {
        format.json().init();
    } else {
        format.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        Settings::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn lambdas_controls_come_first() {
        let s = settings(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("RUST_LOG", "error"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]);
        assert_eq!(
            s,
            Settings {
                level: LevelFilter::DEBUG,
                json: true
            }
        );
    }

    #[test]
    fn rust_log_is_one_level_and_the_default_is_info_text() {
        assert_eq!(settings(&[("RUST_LOG", "warn")]).level, LevelFilter::WARN);
        // Directives need EnvFilter: read as the default level, as lambda_runtime does
        // when its level parse fails.
        assert_eq!(
            settings(&[("RUST_LOG", "info,hyper=warn")]).level,
            LevelFilter::INFO
        );
        assert_eq!(
            settings(&[]),
            Settings {
                level: LevelFilter::INFO,
                json: false
            }
        );
        assert!(!settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]).json);
    }

    #[test]
    fn fatal_is_error_and_nonsense_is_info() {
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).level,
            LevelFilter::ERROR
        );
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]).level,
            LevelFilter::INFO
        );
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "trace")]).level,
            LevelFilter::TRACE
        );
    }
}
