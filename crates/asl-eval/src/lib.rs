//! The expression layer of the Amazon States Language (JSONPath query language).
//!
//! Everything here is pure (no I/O, no async) and is split into *compile* (once, at
//! definition time, returning [`DefinitionError`]) and *evaluate* (per execution,
//! returning [`EvalError`] with AWS's error name and cause text).
//!
//! Modules:
//! * [`jsonpath`]: JSONPath with Jayway semantics ([`jsonpath::JsonPath`]) and reference
//!   paths for `ResultPath` ([`jsonpath::ReferencePath`]).
//! * [`intrinsic`]: `States.*` intrinsic functions ([`intrinsic::Intrinsic`]).
//! * [`template`]: payload templates for `Parameters`, `ResultSelector`, `ItemSelector`
//!   ([`template::Template`]). A Pass state's `Result` is *not* a template.
//! * [`choice`]: Choice rules ([`choice::ChoiceRule`], [`choice::Condition`]).
//! * [`fieldpath`]: path-valued fields (`InputPath`, `OutputPath`, `ItemsPath`,
//!   `ErrorPath`, `CausePath`, `SecondsPath`, `TimestampPath`, `MaxConcurrencyPath`,
//!   `ToleratedFailureCountPath`, ...) with AWS's messages ([`fieldpath::FieldPath`]).
//! * [`timestamp`]: ISO-8601 / RFC 3339 timestamps as Step Functions accepts them.
//!
//! What expressions read is a [`Scope`] (`$` and `$$`), built with [`Scope::new`] so
//! variables and JSONata's `$states` can be added later without breaking callers.
//!
//! The `cause` of an [`EvalError`] is AWS's text *after* the prefix
//! "An error occurred while executing the state 'X' (entered at the event id #N). ",
//! which the interpreter adds.

pub mod choice;
pub mod error;
pub mod fieldpath;
pub mod intrinsic;
pub mod jsonpath;
pub mod scope;
pub mod template;
pub mod timestamp;

pub use error::{DefinitionError, EvalError};
pub use scope::Scope;
