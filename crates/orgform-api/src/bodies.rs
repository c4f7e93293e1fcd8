//! Every response body the client decodes, reachable without a network: [`decode_body`]
//! runs the same decoder and the same mapping into `orgform_model` types as the typed calls,
//! for the fuzz targets (`fuzz/`) and the property tests that feed it hostile bytes.

use orgform_model::{ApiKey, Invite, Organization, User, Workspace, WorkspaceMember};
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::client::{Req, Resp, decode};
use crate::integrity::{ListCap, ListCheck};
use crate::wire::{
    ErrorEnvelope, RawPage, WireApiKey, WireInvite, WireOrganization, WireUser, WireWorkspace,
    WireWorkspaceMember,
};

/// A kind of response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// `GET /v1/organizations/me`.
    Organization,
    /// One user.
    User,
    /// One invite.
    Invite,
    /// One workspace.
    Workspace,
    /// One workspace member.
    WorkspaceMember,
    /// One API key.
    ApiKey,
    /// A page of the user list.
    UserPage,
    /// A page of the invite list.
    InvitePage,
    /// A page of the workspace list.
    WorkspacePage,
    /// A page of a workspace's member list.
    WorkspaceMemberPage,
    /// A page of the API key list.
    ApiKeyPage,
    /// The error envelope of a failed request.
    Error,
}

impl Body {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 12] = [
        Self::Organization,
        Self::User,
        Self::Invite,
        Self::Workspace,
        Self::WorkspaceMember,
        Self::ApiKey,
        Self::UserPage,
        Self::InvitePage,
        Self::WorkspacePage,
        Self::WorkspaceMemberPage,
        Self::ApiKeyPage,
        Self::Error,
    ];
}

/// Decodes `bytes` as a body of kind `body` the way the client does, and maps it into the
/// model types; a page also goes through the read-integrity check of one page (the
/// `integrity` module). Returns how many objects it held (1 for a single object or an error
/// envelope), or the error the client would report.
pub fn decode_body(body: Body, bytes: &[u8]) -> Result<usize, ApiError> {
    let req = Req::get(format!("/decode/{body:?}"));
    let resp = Resp {
        request_id: None,
        body: bytes.to_vec(),
    };
    match body {
        Body::Organization => one::<WireOrganization, Organization>(&req, &resp),
        Body::User => one::<WireUser, User>(&req, &resp),
        Body::Invite => one::<WireInvite, Invite>(&req, &resp),
        Body::Workspace => one::<WireWorkspace, Workspace>(&req, &resp),
        Body::WorkspaceMember => one::<WireWorkspaceMember, WorkspaceMember>(&req, &resp),
        Body::ApiKey => one::<WireApiKey, ApiKey>(&req, &resp),
        Body::UserPage => page::<WireUser, User>(&req, &resp, "id"),
        Body::InvitePage => page::<WireInvite, Invite>(&req, &resp, "id"),
        Body::WorkspacePage => page::<WireWorkspace, Workspace>(&req, &resp, "id"),
        Body::WorkspaceMemberPage => {
            page::<WireWorkspaceMember, WorkspaceMember>(&req, &resp, "user_id")
        }
        Body::ApiKeyPage => page::<WireApiKey, ApiKey>(&req, &resp, "id"),
        Body::Error => serde_json::from_slice::<ErrorEnvelope>(bytes)
            .map(|_| 1)
            .map_err(|e| ApiError::Decode {
                method: req.method.to_string(),
                path: req.path.clone(),
                detail: e.to_string(),
                request_id: None,
            }),
    }
}

fn one<W: DeserializeOwned, T: From<W>>(req: &Req, resp: &Resp) -> Result<usize, ApiError> {
    decode::<W>(req, resp).map(|w| {
        let _ = T::from(w);
        1
    })
}

fn page<W: DeserializeOwned, T: From<W>>(
    req: &Req,
    resp: &Resp,
    id_field: &'static str,
) -> Result<usize, ApiError> {
    let mut check = ListCheck::new(req.path.clone(), id_field, ListCap::USERS);
    check.page(decode::<RawPage>(req, resp)?)?;
    let items: Vec<W> = check.finish(&req.path)?;
    Ok(items.into_iter().map(T::from).count())
}
