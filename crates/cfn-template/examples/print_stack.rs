//! Prints what local mode would run for a template:
//! `cargo run -p cfn-template --example print_stack -- template.yaml ReviewerEmail=you@example.com`

use std::process::ExitCode;

use cfn_template::{LocalEnvironment, ParameterOverrides, Stack, TemplateError};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), TemplateError> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "template.yaml".to_owned());
    let overrides = ParameterOverrides::parse(args)?;
    let stack = Stack::load(&path, &LocalEnvironment::new("human-review"), &overrides)?;
    for notice in &stack.notices {
        eprintln!("note: {notice}");
    }
    match serde_json::to_string_pretty(&stack) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("error: cannot print the stack: {e}"),
    }
    Ok(())
}
