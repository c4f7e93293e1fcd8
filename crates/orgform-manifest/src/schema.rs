//! The manifest's JSON Schema: the committed `schema/orgform.schema.json`, embedded in the
//! binary, and (behind the `schema` feature) the code that regenerates it from [`crate::Manifest`].
//!
//! The schema describes a whole manifest (one file). A fragment of a directory manifest holds
//! only some keys, so editors may flag a missing `version` in fragments; `orgform validate`
//! is the authority. The schema expresses what a schema can: enums, `#RRGGBB` colours, name
//! lengths, id prefixes, known keys only, geographies as free strings (unknown ones are only a
//! warning of the validator, see [`crate::validate`]), and tag keys not starting with `anthropic` (matched
//! case-insensitively, the conservative reading of the API's rule). Cross-field rules
//! (duplicates, platform roles, undeclared workspace members, residency consistency) are only
//! checked by the validator.

/// The schema's `$id`: a stable address that serves the schema itself, for editors
/// (`# yaml-language-server: $schema=...`, see `docs/manifest.md`).
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/orgform/orgform/main/schema/orgform.schema.json";

/// The committed JSON Schema of the manifest (`schema/orgform.schema.json`).
pub const SCHEMA_JSON: &str = include_str!("../../../schema/orgform.schema.json");

#[cfg(feature = "schema")]
pub use generate::*;

#[cfg(feature = "schema")]
mod generate {
    use orgform_model::{ApiKeyStatus, OrgRole, WorkspaceRole};
    use schemars::{Schema, SchemaGenerator, json_schema};

    /// Generates the schema text that `schema/orgform.schema.json` must hold (with a final
    /// newline).
    pub fn generate_schema() -> String {
        let mut schema = schemars::schema_for!(crate::Manifest);
        schema.insert("$id".to_owned(), crate::SCHEMA_URL.into());
        schema.insert("title".to_owned(), "orgform manifest (version 1)".into());
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
        text.push('\n');
        text
    }

    /// `version`: only `1`.
    pub(crate) fn version(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "Format version; only `1` exists.", "const": 1 })
    }

    /// `organization.id`: a UUID.
    pub(crate) fn uuid(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The organization's UUID.",
            "type": "string",
            "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
        })
    }

    const EMAIL_PATTERN: &str = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$";

    /// One email.
    pub(crate) fn email(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Compared case-insensitively; printed as written.",
            "type": "string",
            "pattern": EMAIL_PATTERN
        })
    }

    /// `settings.protected`.
    pub(crate) fn emails(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Emails this tool never removes, demotes or touches the keys of.",
            "type": "array",
            "items": { "type": "string", "pattern": EMAIL_PATTERN }
        })
    }

    /// An organization role: every role the manifest may name (the platform narrows it).
    pub(crate) fn org_role(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Organization role. Console: user, developer, billing, claude_code_user, admin. Enterprise: user, managed (owner, primary_owner, membership_admin as assertions). `admin` and owner roles are assertions only: the API cannot grant them.",
            "type": "string",
            "enum": OrgRole::KNOWN
        })
    }

    /// Workspace members. `workspace_billing` stays in the enum: a member declared
    /// `role: billing` may state it (a no-op); the validator refuses it for everyone else.
    pub(crate) fn workspace_members(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Email -> workspace role, or `{role, expires}` for a time-boxed grant. Omitted: members not managed; `{}`: managed, nobody explicit. `workspace_billing` is inherited only (allowed solely for members with `role: billing`).",
            "type": "object",
            "propertyNames": { "pattern": EMAIL_PATTERN },
            "additionalProperties": {
                "oneOf": [
                    { "type": "string", "enum": WorkspaceRole::KNOWN },
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["role"],
                        "properties": {
                            "role": { "type": "string", "enum": WorkspaceRole::KNOWN },
                            "expires": {
                                "description": "Time-boxed grant: in force through the end of this day (UTC); the first plan after it removes the membership.",
                                "type": "string",
                                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                "format": "date"
                            }
                        }
                    }
                ]
            }
        })
    }

    /// `expires`: a calendar date.
    pub(crate) fn date(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Time-boxed access: in force through the end of this day (UTC); the first plan after it removes the entry's access.",
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "format": "date"
        })
    }

    /// Tags: keys may not start with `anthropic`.
    pub(crate) fn tags(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Tags; keys may not start with `anthropic`. Omitted: not managed.",
            "type": "object",
            "propertyNames": { "not": { "pattern": "^[Aa][Nn][Tt][Hh][Rr][Oo][Pp][Ii][Cc]" } },
            "additionalProperties": { "type": "string" }
        })
    }

    /// `workspace_geo`.
    pub(crate) fn workspace_geo(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Immutable after creation: a change is blocked. Known today: `us`.",
            "type": "string",
            "minLength": 1,
            "examples": crate::validate::WORKSPACE_GEOS
        })
    }

    /// `default_inference_geo`.
    pub(crate) fn inference_geo(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Must be in `allowed_inference_geos`. Known today: `global`, `us`.",
            "type": "string",
            "minLength": 1,
            "examples": crate::validate::INFERENCE_GEOS
        })
    }

    /// `allowed_inference_geos`: a list of geos or `"unrestricted"`.
    pub(crate) fn allowed_geos(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A list of geographies, or `\"unrestricted\"`.",
            "anyOf": [
                {
                    "type": "array",
                    "items": { "type": "string", "minLength": 1, "examples": crate::validate::INFERENCE_GEOS },
                    "minItems": 1,
                    "uniqueItems": true
                },
                { "const": "unrestricted" }
            ]
        })
    }

    /// An API key status that may be asked for (`expired` cannot be set).
    pub(crate) fn key_status(_: &mut SchemaGenerator) -> Schema {
        let statuses: Vec<&str> = ApiKeyStatus::KNOWN
            .iter()
            .copied()
            .filter(|s| *s != ApiKeyStatus::Expired.as_str())
            .collect();
        json_schema!({
            "description": "Wanted status: `active`, `inactive` or `archived` (irreversible).",
            "type": "string",
            "enum": statuses
        })
    }

    /// `workspaces:` of a federation rule: `all` or workspace names.
    pub(crate) fn rule_workspaces(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`all` (every workspace, present and future) or a list of workspace names from `workspaces:`; required unless the rule is archived.",
            "anyOf": [
                { "type": "array", "items": { "type": "string", "minLength": 1 }, "minItems": 1, "uniqueItems": true },
                { "const": "all" }
            ]
        })
    }
}
