//! Workspaces: `/v1/organizations/workspaces[/{workspace_id}[/archive]]`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use orgform_model::{AllowedGeos, ApiKeyStatus, DataResidency};
use serde_json::{Map, Value};

use super::{ApiResult, Shd, body_object, ok, string_field};
use crate::error::ApiError;
use crate::query::{Query, paginate};
use crate::readings::WorkspaceNames;
use crate::server::json_bytes;
use crate::state::{WorkspaceRecord, default_residency, workspace_json};
use crate::{ArchiveCascade, Shared};

/// Geographies accepted for inference.
const GEOS: &[&str] = &["global", "us"];
/// Palette for server-assigned workspace colours.
const PALETTE: &[&str] = &[
    "#6C5BB9", "#3F7D58", "#C2185B", "#1E88E5", "#F4511E", "#8E24AA", "#00897B", "#FDD835",
];

pub(super) fn workspace_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("workspace not found: {id}"))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 {
        return Err(ApiError::invalid(
            "name: String should have at least 1 character",
        ));
    }
    if n > 40 {
        return Err(ApiError::invalid(format!(
            "name: String should have at most 40 characters (got {n})"
        )));
    }
    Ok(())
}

fn parse_color(map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(color) = string_field(map, "display_color")? else {
        return Ok(None);
    };
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(Some(color.to_owned()))
    } else {
        Err(ApiError::invalid(format!(
            "display_color: String should match pattern '^#[0-9A-Fa-f]{{6}}$' (got \"{color}\")"
        )))
    }
}

/// Tag changes: key to `Some(value)` to set, `None` to remove.
type TagChanges = Vec<(String, Option<String>)>;

/// Parses `tags`: `Some(map of key -> Some(value) | None for removal)`.
fn parse_tags(
    map: &Map<String, Value>,
    allow_null_values: bool,
) -> Result<Option<TagChanges>, ApiError> {
    let tags = match map.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(t)) => t,
        Some(_) => {
            return Err(ApiError::invalid(
                "tags: Input should be a valid dictionary",
            ));
        }
    };
    let mut out = Vec::with_capacity(tags.len());
    for (k, v) in tags {
        if k.to_ascii_lowercase().starts_with("anthropic") {
            return Err(ApiError::invalid(format!(
                "tags: key \"{k}\" is reserved: tag keys may not begin with \"anthropic\""
            )));
        }
        match v {
            Value::String(v) => out.push((k.clone(), Some(v.clone()))),
            Value::Null if allow_null_values => out.push((k.clone(), None)),
            _ => {
                return Err(ApiError::invalid(format!(
                    "tags.{k}: Input should be a valid string"
                )));
            }
        }
    }
    Ok(Some(out))
}

fn parse_geos(value: &Value) -> Result<Option<AllowedGeos>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s == "unrestricted" => Ok(Some(AllowedGeos::UNRESTRICTED)),
        Value::Array(items) => {
            let mut geos = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(g) if GEOS.contains(&g) => geos.push(g.to_owned()),
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "data_residency.allowed_inference_geos: Input should be 'global' or 'us' (got {item})"
                        )));
                    }
                }
            }
            if geos.is_empty() {
                return Err(ApiError::invalid(
                    "data_residency.allowed_inference_geos: List should have at least 1 item",
                ));
            }
            Ok(Some(AllowedGeos::List(geos)))
        }
        other => Err(ApiError::invalid(format!(
            "data_residency.allowed_inference_geos: Input should be a list of geos or \"unrestricted\" (got {other})"
        ))),
    }
}

/// Applies a `data_residency` body to `current` (creation starts from the defaults).
fn apply_residency(
    value: &Value,
    current: &DataResidency,
    creating: bool,
) -> Result<DataResidency, ApiError> {
    let obj = match value {
        Value::Null => return Ok(current.clone()),
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::invalid(
                "data_residency: Input should be an object",
            ));
        }
    };
    let allowed_fields: &[&str] = if creating {
        &[
            "workspace_geo",
            "allowed_inference_geos",
            "default_inference_geo",
        ]
    } else {
        &["allowed_inference_geos", "default_inference_geo"]
    };
    if let Some(extra) = obj.keys().find(|k| !allowed_fields.contains(&k.as_str())) {
        let why = if extra == "workspace_geo" {
            "workspace_geo cannot be changed after creation"
        } else {
            "Extra inputs are not permitted"
        };
        return Err(ApiError::invalid(format!("data_residency.{extra}: {why}")));
    }
    let mut out = current.clone();
    match obj.get("workspace_geo") {
        None | Some(Value::Null) => {}
        Some(Value::String(g)) if g == "us" => out.workspace_geo.clone_from(g),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "data_residency.workspace_geo: Input should be 'us' (got {other})"
            )));
        }
    }
    if let Some(v) = obj.get("allowed_inference_geos")
        && let Some(geos) = parse_geos(v)?
    {
        out.allowed_inference_geos = geos;
    }
    match obj.get("default_inference_geo") {
        None | Some(Value::Null) => {}
        Some(Value::String(g)) if GEOS.contains(&g.as_str()) => {
            out.default_inference_geo.clone_from(g);
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "data_residency.default_inference_geo: Input should be 'global' or 'us' (got {other})"
            )));
        }
    }
    if !out
        .allowed_inference_geos
        .allows(&out.default_inference_geo)
    {
        return Err(ApiError::invalid(format!(
            "data_residency.default_inference_geo: \"{}\" must be one of allowed_inference_geos",
            out.default_inference_geo
        )));
    }
    Ok(out)
}

fn check_external_key(s: &Shared, map: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(id) = string_field(map, "external_key_id")? else {
        return Ok(None);
    };
    if !s.options.cmek_enabled {
        return Err(ApiError::invalid(
            "external_key_id: customer-managed encryption keys are not enabled for this organization",
        ));
    }
    Ok(Some(id.to_owned()))
}

/// `POST /v1/organizations/workspaces`.
pub(crate) async fn create_workspace(AxState(s): Shd, body: Bytes) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "data_residency",
            "external_key_id",
            "tags",
            "display_color",
        ],
        &["name"],
    )?;
    let name =
        string_field(&map, "name")?.ok_or_else(|| ApiError::invalid("name: Field required"))?;
    check_name(name)?;
    let residency = match map.get("data_residency") {
        None => default_residency(),
        Some(v) => apply_residency(v, &default_residency(), true)?,
    };
    let tags = parse_tags(&map, false)?.unwrap_or_default();
    let color = parse_color(&map)?;
    let external_key_id = check_external_key(&s, &map)?;
    let mut core = s.core.write();
    let active = core
        .state
        .workspaces
        .iter()
        .filter(|w| !w.workspace.is_archived())
        .count();
    if active >= s.options.max_workspaces {
        return Err(ApiError::invalid(format!(
            "the organization already has {active} active workspaces, the maximum is {}; archive one or ask your account team for more",
            s.options.max_workspaces
        )));
    }
    if s.readings.workspace_names == WorkspaceNames::Unique
        && let Some(w) = core
            .state
            .workspaces
            .iter()
            .find(|w| !w.workspace.is_archived() && w.workspace.name == name)
    {
        return Err(ApiError::invalid(format!(
            "a workspace named \"{name}\" already exists ({})",
            w.workspace.id
        )));
    }
    let n = core.state.workspaces.len();
    let record = WorkspaceRecord {
        workspace: orgform_model::Workspace {
            id: core.fresh_id(&s.ids, "wrkspc"),
            name: name.to_owned(),
            created_at: core.now,
            archived_at: None,
            display_color: color.unwrap_or_else(|| PALETTE[n % PALETTE.len()].to_owned()),
            data_residency: Some(residency),
            tags: tags
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        },
        external_key_id,
        compartment_id: s.ids.next_uuid(),
    };
    let out = workspace_json(&record);
    core.state.workspaces.push(record);
    core.touch();
    Ok(ok(&out))
}

/// `GET /v1/organizations/workspaces`.
pub(crate) async fn list_workspaces(AxState(s): Shd, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let page = q.page()?;
    let include_archived = q.bool("include_archived")?;
    let core = s.core.read();
    let rendered = core.workspaces_rendered();
    let body = paginate(
        &core.state.workspaces,
        &rendered,
        &page,
        str::to_owned,
        |w| w.workspace.id.as_str(),
        |_| true,
        |w| include_archived || !w.workspace.is_archived(),
    )?;
    Ok(json_bytes(body))
}

/// `GET /v1/organizations/workspaces/{workspace_id}`.
pub(crate) async fn get_workspace(AxState(s): Shd, Path(id): Path<String>) -> ApiResult {
    let core = s.core.read();
    let ws = core
        .state
        .workspace(&id)
        .ok_or_else(|| workspace_not_found(&id))?;
    Ok(ok(&workspace_json(ws)))
}

/// `POST /v1/organizations/workspaces/{workspace_id}`.
pub(crate) async fn update_workspace(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let map = body_object(
        &body,
        &[
            "name",
            "data_residency",
            "external_key_id",
            "tags",
            "display_color",
        ],
        &[],
    )?;
    let name = match map.get("name") {
        None => None,
        Some(Value::String(n)) => {
            check_name(n)?;
            Some(n.clone())
        }
        Some(_) => return Err(ApiError::invalid("name: Input should be a valid string")),
    };
    let tags = parse_tags(&map, true)?;
    let color = parse_color(&map)?;
    let external_key_id = check_external_key(&s, &map)?;
    let mut core = s.core.write();
    let is_default = core.state.default_workspace.workspace.id == id;
    let record = if is_default {
        &mut core.state.default_workspace
    } else {
        core.state
            .workspaces
            .iter_mut()
            .find(|w| w.workspace.id == id)
            .ok_or_else(|| workspace_not_found(&id))?
    };
    if let Some(at) = record.workspace.archived_at {
        return Err(ApiError::invalid(format!(
            "workspace {id} was archived at {} and can no longer be changed",
            crate::state::fmt_ts(at)
        )));
    }
    if is_default && name.as_ref().is_some_and(|n| *n != record.workspace.name) {
        return Err(ApiError::invalid("the default workspace cannot be renamed"));
    }
    let residency = match map.get("data_residency") {
        None => None,
        Some(v) => {
            let current = record
                .workspace
                .data_residency
                .clone()
                .unwrap_or_else(default_residency);
            Some(apply_residency(v, &current, false)?)
        }
    };
    if let (Some(new), Some(old)) = (&external_key_id, &record.external_key_id)
        && new != old
    {
        return Err(ApiError::invalid(format!(
            "external_key_id is write-once: workspace {id} already uses {old}"
        )));
    }
    if let Some(n) = name {
        record.workspace.name = n;
    }
    if let Some(r) = residency {
        record.workspace.data_residency = Some(r);
    }
    if let Some(t) = tags {
        for (k, v) in t {
            match v {
                Some(v) => {
                    record.workspace.tags.insert(k, v);
                }
                None => {
                    record.workspace.tags.remove(&k);
                }
            }
        }
    }
    if let Some(c) = color {
        record.workspace.display_color = c;
    }
    if external_key_id.is_some() {
        record.external_key_id = external_key_id;
    }
    let out = workspace_json(record);
    core.touch();
    Ok(ok(&out))
}

/// `POST /v1/organizations/workspaces/{workspace_id}/archive`.
pub(crate) async fn archive_workspace(
    AxState(s): Shd,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    body_object(&body, &[], &[])?;
    let mut core = s.core.write();
    if core.state.default_workspace.workspace.id == id {
        return Err(ApiError::invalid(
            "the default workspace cannot be archived",
        ));
    }
    let now = core.now;
    let record = core
        .state
        .workspaces
        .iter_mut()
        .find(|w| w.workspace.id == id)
        .ok_or_else(|| workspace_not_found(&id))?;
    if record.workspace.archived_at.is_some() {
        // One-way and idempotent: the original `archived_at` is returned.
        return Ok(ok(&workspace_json(record)));
    }
    record.workspace.archived_at = Some(now);
    let out = workspace_json(record);
    let cascade = match s.options.archive_cascade {
        ArchiveCascade::Archived => Some(ApiKeyStatus::Archived),
        ArchiveCascade::Inactive => Some(ApiKeyStatus::Inactive),
        ArchiveCascade::None => None,
    };
    if let Some(to) = cascade {
        for key in &mut core.state.api_keys {
            if key.workspace_id.as_deref() == Some(id.as_str())
                && key.status != ApiKeyStatus::Archived
            {
                key.status = to.clone();
            }
        }
    }
    core.touch();
    Ok(ok(&out))
}
