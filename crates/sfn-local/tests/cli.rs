//! The binary's command line: `--help` names every flag, a bad flag exits 2.

use std::process::Command;

#[test]
fn help_lists_the_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_sfn-local"))
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("run sfn-local: {e}"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--port", "--state-dir", "--host", "--region", "--account"] {
        assert!(text.contains(flag), "missing {flag} in:\n{text}");
    }
    assert!(text.contains("[default: 127.0.0.1]"), "{text}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_sfn-local"))
        .arg("--no-such-flag")
        .output()
        .unwrap_or_else(|e| panic!("run sfn-local: {e}"));
    assert_eq!(out.status.code(), Some(2));
}
