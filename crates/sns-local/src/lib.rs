//! Placeholder: filled by the owning change.
