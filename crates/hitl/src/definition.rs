//! The template's state machine definitions, validated on this machine as AWS's
//! ValidateStateMachineDefinition would (`asl_engine::Definition::validate`): before
//! `sam deploy` (`hitl check`) and before `hitl local` starts.
//!
//! The definition is the one local mode runs: the `DefinitionUri` file (or inline
//! `Definition`) after `DefinitionSubstitutions`, whose `!Ref`/`!GetAtt` values are the
//! placeholders local mode gives (the same `LocalEnvironment`). Each diagnostic is one
//! line with its severity, the state machine, code, location and message; errors make
//! the caller fail, warnings only print.

use std::path::Path;

use anyhow::{Context, Result, bail};
use asl_engine::{Definition, Diagnostic, MachineType, Severity};
use cfn_template::{LocalEnvironment, ParameterOverrides, Stack, StateMachineType};

/// What the definitions of one template gave.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// One line per diagnostic, errors first.
    pub(crate) lines: Vec<String>,
    pub(crate) errors: usize,
    /// Where to fix them: the definition files (or the template, for inline ones).
    pub(crate) files: Vec<String>,
    /// How many state machines were checked.
    pub(crate) machines: usize,
}

impl Findings {
    /// Fails, naming the fix, when any definition has an ERROR diagnostic.
    pub(crate) fn refuse_errors(&self, then: &str) -> Result<()> {
        if self.errors == 0 {
            return Ok(());
        }
        bail!(
            "{} error(s) in the state machine definition (see above): AWS would refuse it \
             (CreateStateMachine: InvalidDefinition). Fix {} at the locations shown, then {then}",
            self.errors,
            self.files.join(", ")
        )
    }
}

/// Validates every state machine of `template`, loaded as local mode loads it.
pub(crate) fn check(template: &Path, overrides: &[String], stack_name: &str) -> Result<Findings> {
    let environment = LocalEnvironment::new(stack_name)
        .with_region(local_stack::LOCAL_REGION)
        .with_account_id(local_stack::LOCAL_ACCOUNT);
    let overrides = ParameterOverrides::parse(overrides)
        .context("--parameter-overrides: pass Key=Value pairs, as sam deploy takes them")?;
    let stack = Stack::load(template, &environment, &overrides)
        .with_context(|| format!("cannot read {}", template.display()))?;
    let mut findings = Findings::default();
    for machine in &stack.state_machines {
        findings.machines += 1;
        let ty = match machine.machine_type {
            StateMachineType::Express => MachineType::Express,
            StateMachineType::Standard => MachineType::Standard,
        };
        let file = machine
            .definition_path
            .as_deref()
            .unwrap_or(template)
            .display()
            .to_string();
        let mut diagnostics = Definition::validate(&machine.definition.to_string(), ty);
        // Errors first; the sort is stable, so each keeps its document order.
        diagnostics.sort_by_key(|d| d.severity);
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors > 0 {
            findings.errors += errors;
            findings.files.push(file.clone());
        }
        findings.lines.extend(
            diagnostics
                .iter()
                .map(|d| line(&machine.logical_id, &file, d)),
        );
    }
    Ok(findings)
}

/// `error: Machine (file): CODE at /States/X/Next: message`.
fn line(machine: &str, file: &str, d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    // A JSON syntax error's message repeats its location after a line break.
    let message = d.message.split('\n').next().unwrap_or_default();
    match &d.location {
        Some(at) => format!(
            "{severity}: {machine} ({file}): {} at {at}: {message}",
            d.code
        ),
        None => format!("{severity}: {machine} ({file}): {}: {message}", d.code),
    }
}
