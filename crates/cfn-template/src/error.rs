//! Errors of reading a template. Every message names what is wrong (the
//! parameter, the condition, the resource and its property) and, where there
//! is one, the fix.

use std::path::PathBuf;

/// Why a template could not be read into a [`crate::Stack`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template file could not be read.
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        /// The template path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The text is not YAML (or JSON, which is YAML).
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),

    /// A top-level section has the wrong shape.
    #[error("section {section}: {message}")]
    Section {
        /// `Parameters`, `Conditions`, `Resources`, `Globals`, ...
        section: String,
        /// What is wrong.
        message: String,
    },

    /// A `--parameter-overrides` argument is not `Key=Value`.
    #[error(
        "parameter override {arg:?} is not Key=Value: pass --parameter-overrides Name=value (or ParameterKey=Name,ParameterValue=value)"
    )]
    BadOverride {
        /// The argument as given.
        arg: String,
    },

    /// An override names a parameter the template does not declare.
    #[error("unknown parameter {name} in --parameter-overrides; the template's parameters are: {}", known.join(", "))]
    UnknownParameter {
        /// The name given.
        name: String,
        /// The template's parameter names.
        known: Vec<String>,
    },

    /// A parameter is missing, has the wrong type, or breaks a constraint.
    #[error("parameter {name} {message}")]
    Parameter {
        /// The parameter's name.
        name: String,
        /// What is wrong and what to do, worded to follow the name
        /// ("has no default: pass ...").
        message: String,
    },

    /// A condition could not be evaluated.
    #[error("condition {name}: {message}")]
    Condition {
        /// The condition's name.
        name: String,
        /// What is wrong.
        message: String,
    },

    /// A rule of the `Rules` section failed (its `AssertDescription`), or
    /// could not be evaluated.
    #[error("rule {rule}: {message}")]
    Rule {
        /// The rule's name.
        rule: String,
        /// The assertion's description, or what is wrong with the rule.
        message: String,
    },

    /// A resource could not be understood.
    #[error("resource {logical_id}{}: {message}", property_suffix(property.as_deref()))]
    Resource {
        /// Logical id of the resource.
        logical_id: String,
        /// The property at fault (top-level name), if one is.
        property: Option<String>,
        /// What is wrong.
        message: String,
    },

    /// An output could not be resolved.
    #[error("output {name}: {message}")]
    Output {
        /// The output's name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

fn property_suffix(property: Option<&str>) -> String {
    property.map_or_else(String::new, |p| format!(", property {p}"))
}

impl TemplateError {
    pub(crate) fn resource(
        logical_id: &str,
        property: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        TemplateError::Resource {
            logical_id: logical_id.to_owned(),
            property: property.map(str::to_owned),
            message: message.into(),
        }
    }

    pub(crate) fn section(section: &str, message: impl Into<String>) -> Self {
        TemplateError::Section {
            section: section.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn parameter(name: &str, message: impl Into<String>) -> Self {
        TemplateError::Parameter {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

/// An intrinsic function could not be resolved. The caller wraps it into a
/// [`TemplateError`] that names the resource and property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolveError(pub(crate) String);

impl ResolveError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ResolveError(message.into())
    }
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
