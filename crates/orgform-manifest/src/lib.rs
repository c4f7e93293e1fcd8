//! The orgform manifest (version 1): the desired state of one organization.
//!
//! [`types`] holds the merged, validated manifest that the planner consumes. [`load`] reads one
//! file or a directory of fragments, keeping file/line/column for every value, and validates
//! it, reporting every problem at once as miette diagnostics ([`ManifestError`], [`Problem`],
//! [`render`]), and records where every entry was written ([`Sources`], provenance for the
//! plan). [`SCHEMA_JSON`] is the manifest's JSON Schema.

mod de;
mod diag;
mod emails;
mod excerpt;
mod federation;
mod load;
mod schema;
mod shape;
mod sources;
mod suggest;
pub mod types;
mod validate;
mod yaml;

pub use diag::{Location, ManifestError, Problem, SourceFile, render, render_problems};
pub use federation::*;
pub use load::{Loaded, MAX_FILE_BYTES, load, load_str};
pub use schema::*;
pub use sources::{Source, Sources};
pub use types::*;
pub use validate::{
    INFERENCE_GEOS, MAX_NAME_CHARS, WORKSPACE_GEOS, is_hex_color, is_reserved_tag, is_uuid,
    looks_like_email, platform_roles,
};
