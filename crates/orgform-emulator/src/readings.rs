//! Readings of the points the Admin API documentation leaves open.
//!
//! Each [`Readings`] field is one switch with a kebab-case name and two or more values; the
//! first value is the default (the emulator's long-standing choice). A switch can be set by
//! name ([`Readings::set`], `orgform emulator --reading NAME=VALUE`), and whole named profiles
//! ([`Readings::profiles`]: `default`, one per switch flipped, `all-flipped`) let a test
//! matrix run the same scenarios under every reading.

use std::fmt;

/// Declares a reading: an enum whose first variant (marked `#[default]`) is the default, with
/// its wire names.
macro_rules! reading {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $var),+
        }

        impl $name {
            /// Every value, the default first.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];
            /// Every value's name, the default first.
            pub const NAMES: &'static [&'static str] = &[$($s),+];

            /// The value's name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$var => $s),+
                }
            }

            /// The value with this name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($s => Some(Self::$var),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reading! {
    /// Whether org admins (as `workspace_admin`) and billing members (as `workspace_billing`)
    /// appear in every workspace's member list.
    ImplicitMembers {
        /// Not listed; only explicit memberships are (default).
        #[default]
        Hidden = "hidden",
        /// Listed, unless an explicit membership of theirs is listed instead.
        Listed = "listed",
    }
}

reading! {
    /// What `GET .../members/{user_id}` returns for an implicit member without an explicit
    /// membership.
    ImplicitMemberGet {
        /// 404 `not_found_error` (default).
        #[default]
        NotFound = "not-found",
        /// 200 with the implicit role.
        Found = "found",
    }
}

reading! {
    /// What `GET /invites/{id}` returns for a deleted invite.
    DeletedInviteGet {
        /// 404 `not_found_error` (default), consistent with lists hiding deleted invites.
        #[default]
        NotFound = "not-found",
        /// The invite with `status: "deleted"`.
        ShowDeleted = "deleted-status",
    }
}

reading! {
    /// What `DELETE /invites/{id}` returns for an invite already deleted.
    DeletedInviteDelete {
        /// 404 `not_found_error` (default).
        #[default]
        NotFound = "not-found",
        /// 400 `invalid_request_error`: only pending invites can be deleted.
        BadRequest = "bad-request",
    }
}

reading! {
    /// What a known path answers to a method it does not serve (`POST /api_keys`,
    /// `DELETE /api_keys/{id}`, ...).
    WrongMethod {
        /// 404 `not_found_error` (default).
        #[default]
        NotFound = "not-found",
        /// 405 `invalid_request_error` with an `allow` header.
        MethodNotAllowed = "method-not-allowed",
    }
}

reading! {
    /// The order of a list documented as newest first (users, invites).
    NewestFirstOrder {
        /// Newest first, as documented (default).
        #[default]
        NewestFirst = "newest-first",
        /// Oldest first.
        OldestFirst = "oldest-first",
    }
}

impl NewestFirstOrder {
    /// Whether the newest object comes first.
    pub fn newest_first(self) -> bool {
        self == Self::NewestFirst
    }
}

reading! {
    /// The order of a list whose order is undocumented (workspaces, members, API keys).
    ListOrder {
        /// Oldest first (by creation time; members by user id, ascending).
        #[default]
        OldestFirst = "oldest-first",
        /// Newest first (by creation time; members by user id, descending).
        NewestFirst = "newest-first",
    }
}

impl ListOrder {
    /// Whether the newest object comes first.
    pub fn newest_first(self) -> bool {
        self == Self::NewestFirst
    }
}

reading! {
    /// How a workspace (non-admin) API key is refused on admin routes.
    WorkspaceKeyRefusal {
        /// 401 `authentication_error` `invalid x-api-key` (default).
        #[default]
        Unauthorized = "unauthorized",
        /// 403 `permission_error`.
        Forbidden = "forbidden",
    }
}

reading! {
    /// The shape of an API key object.
    KeyShape {
        /// The current spec: `scope` with the real workspace id, `principal: null` (default).
        #[default]
        Current = "current",
        /// The earlier (August 2026) shape: no `scope`; `principal` is the creator
        /// (`{"id", "type": "user" | "service_account"}`) or `null`.
        Earlier = "earlier",
    }
}

reading! {
    /// Whether responses carry `anthropic-ratelimit-requests-{limit,remaining,reset}`.
    RateLimitHeaders {
        /// No rate-limit headers (default; only `retry-after` on a 429).
        #[default]
        Absent = "absent",
        /// The headers on every authenticated Admin API response.
        Present = "present",
    }
}

reading! {
    /// How the server counts "100 requests per minute" (and 1,200 invites per hour).
    RateLimitModel {
        /// Never more than the budget in any rolling window (default).
        #[default]
        RollingWindow = "rolling-window",
        /// A bucket of the budget's size, refilled continuously at budget / window.
        TokenBucket = "token-bucket",
    }
}

reading! {
    /// What setting `status: "inactive"` on an expired key does.
    ExpiredKeyInactive {
        /// 400: an expired key accepts only `archived` (default).
        #[default]
        Refused = "refused",
        /// 200: stored as `inactive`, still read as `expired`.
        Accepted = "accepted",
    }
}

reading! {
    /// Whether two active workspaces may share a name.
    WorkspaceNames {
        /// Names are free (default; uniqueness is undocumented).
        #[default]
        Free = "free",
        /// A second active workspace with the same name is 400.
        Unique = "unique",
    }
}

reading! {
    /// Whether the Compliance API activity feed (`GET /v1/compliance/activities`) answers the
    /// credential, and how it refuses when it does not. An Admin key reads it only when the
    /// Compliance API was enabled for the organization before the key was created; which
    /// status the refusal has is undocumented.
    ActivityFeed {
        /// Served (default).
        #[default]
        Served = "served",
        /// 403 `permission_error` (the feed is not enabled for this credential).
        Forbidden = "forbidden",
        /// 404 `not_found_error` (the feed does not exist for this organization).
        NotFound = "not-found",
    }
}

reading! {
    /// Whether the usage report (`GET /v1/organizations/usage_report/messages`) answers the
    /// credential. It is documented for Admin keys; whether an OAuth token or a Claude
    /// Enterprise organization may read it is not.
    UsageReport {
        /// Served (default).
        #[default]
        Served = "served",
        /// 403 `permission_error`.
        Forbidden = "forbidden",
    }
}

reading! {
    /// How an Admin API key is refused on the endpoints that accept only an OAuth bearer
    /// token (service accounts, their workspace memberships, federation issuers and rules).
    /// The reference says only that Admin API keys "are not accepted".
    IdentityAdminKey {
        /// 403 `permission_error`: the key is valid but not allowed here (default).
        #[default]
        Forbidden = "forbidden",
        /// 401 `authentication_error`: the key is not a credential these endpoints know.
        Unauthorized = "unauthorized",
    }
}

reading! {
    /// Whether an archived service account's name stays taken. The reference says a
    /// duplicate name is 409 but not whether archived service accounts count.
    ServiceAccountNames {
        /// Archived names stay taken: creating one again is 409 (default).
        #[default]
        Taken = "taken",
        /// Only non-archived service accounts hold their name.
        Freed = "freed",
    }
}

reading! {
    /// How an OAuth caller is refused a federation rule whose scope is not
    /// `workspace:developer` or `workspace:inference` (creating, changing or archiving it,
    /// or changing its issuer). The reference says such scopes "require a Console session"
    /// without naming the status.
    ConsoleScope {
        /// 403 `permission_error`: the caller is authenticated but not allowed (default).
        #[default]
        Forbidden = "forbidden",
        /// 400 `invalid_request_error`: the request is refused as invalid.
        Invalid = "invalid",
    }
}

reading! {
    /// Whether an archived federation issuer's or rule's name stays taken. The reference
    /// says a duplicate name is 409 but not whether archived objects count.
    FederationNames {
        /// Archived names stay taken: creating one again is 409 (default).
        #[default]
        Taken = "taken",
        /// Only non-archived objects hold their name.
        Freed = "freed",
    }
}

reading! {
    /// How the token exchange (`POST /v1/oauth/token`) answers a denied assertion (a bad
    /// signature, a claim the rule does not match, an unknown or archived rule, a replayed
    /// `jti`, ...). The newest "WIF reference" and "Use WIF with GitHub Actions" pages say an
    /// opaque 401 `authentication_error` "Authentication failed"; an earlier version of the
    /// reference said 400 `invalid_grant`.
    ExchangeDenial {
        /// 401 `authentication_error`, message `Authentication failed` (default).
        #[default]
        Unauthorized = "unauthorized",
        /// 400 `invalid_grant`, message `Authentication failed`.
        InvalidGrant = "invalid-grant",
    }
}

reading! {
    /// Which workspace an exchange without `workspace_id` is scoped to when the rule is
    /// enabled for more than one. The reference: `workspace_id` is "required when the rule is
    /// enabled for more than one workspace"; an official SDK says the server then picks "the
    /// org default if the rule covers it".
    ExchangeWorkspace {
        /// The default workspace when the rule covers it, else denied (default).
        #[default]
        DefaultIfCovered = "default-if-covered",
        /// Denied (`workspace_id_required`) whenever more than one workspace is enabled.
        Required = "required",
    }
}

/// One switch of [`Readings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    /// Kebab-case name, as in `--reading NAME=VALUE`.
    pub name: &'static str,
    /// Its values, the default first.
    pub values: &'static [&'static str],
    /// What it decides.
    pub about: &'static str,
}

/// A name or value [`Readings::set`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    /// No switch has this name.
    #[error("unknown reading {0:?}; known readings: {1}")]
    UnknownSwitch(String, String),
    /// The switch has no such value.
    #[error("unknown value {value:?} for reading {name}; expected one of {expected}")]
    UnknownValue {
        /// The switch.
        name: String,
        /// The value given.
        value: String,
        /// Its values.
        expected: String,
    },
    /// No profile has this name.
    #[error("unknown readings profile {0:?}; known profiles: {1}")]
    UnknownProfile(String, String),
}

/// Declares [`Readings`] and its switch table from one list.
macro_rules! readings {
    ($($(#[$m:meta])* $field:ident: $ty:ident = $name:literal, $about:literal;)+) => {
        /// One choice per point the Admin API documentation leaves open. `Default` is the
        /// emulator's long-standing reading of each.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct Readings {
            $($(#[$m])* pub $field: $ty,)+
        }

        impl Readings {
            /// Every switch, in a fixed order.
            pub const SWITCHES: &'static [Switch] = &[
                $(Switch { name: $name, values: $ty::NAMES, about: $about },)+
            ];

            /// The current value of the switch `name`.
            pub fn get(&self, name: &str) -> Option<&'static str> {
                match name {
                    $($name => Some(self.$field.as_str()),)+
                    _ => None,
                }
            }

            /// Sets the switch `name` to `value`.
            pub fn set(&mut self, name: &str, value: &str) -> Result<(), ReadingError> {
                match name {
                    $($name => {
                        self.$field = $ty::parse(value).ok_or_else(|| ReadingError::UnknownValue {
                            name: name.to_owned(),
                            value: value.to_owned(),
                            expected: $ty::NAMES.join(", "),
                        })?;
                        Ok(())
                    })+
                    _ => Err(ReadingError::UnknownSwitch(
                        name.to_owned(),
                        Self::SWITCHES.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
                    )),
                }
            }
        }
    };
}

readings! {
    /// Implicit workspace members in member lists.
    implicit_members: ImplicitMembers = "implicit-members",
        "org admins (workspace_admin) and billing members (workspace_billing) in every workspace's member list";
    /// Single GET of an implicit member.
    implicit_member_get: ImplicitMemberGet = "implicit-member-get",
        "GET of an implicit member's membership: 404 or 200";
    /// GET of a deleted invite.
    deleted_invite_get: DeletedInviteGet = "deleted-invite-get",
        "GET of a deleted invite: 404 or the invite with status deleted";
    /// DELETE of a deleted invite.
    deleted_invite_delete: DeletedInviteDelete = "deleted-invite-delete",
        "DELETE of a deleted invite: 404 or 400";
    /// A method a known path does not serve.
    wrong_method: WrongMethod = "wrong-method",
        "a method a known path does not serve: 404 or 405";
    /// Order of the user list (documented newest first).
    users_order: NewestFirstOrder = "users-order",
        "order of the user list (by added_at)";
    /// Order of the invite list (documented newest first).
    invites_order: NewestFirstOrder = "invites-order",
        "order of the invite list (by invited_at)";
    /// Order of the workspace list (undocumented).
    workspaces_order: ListOrder = "workspaces-order",
        "order of the workspace list (by created_at)";
    /// Order of member lists (undocumented).
    members_order: ListOrder = "members-order",
        "order of workspace member lists (by user id)";
    /// Order of the API key list (undocumented).
    api_keys_order: ListOrder = "api-keys-order",
        "order of the API key list (by created_at)";
    /// How a workspace key is refused on admin routes.
    workspace_key: WorkspaceKeyRefusal = "workspace-key",
        "a workspace API key on admin routes: 401 or 403";
    /// The API key object's shape.
    key_shape: KeyShape = "key-shape",
        "API key shape: current (scope, principal) or earlier (principal is the creator, no scope)";
    /// `anthropic-ratelimit-*` headers.
    rate_limit_headers: RateLimitHeaders = "rate-limit-headers",
        "anthropic-ratelimit-requests-* headers on every response";
    /// How rate limits are counted.
    rate_limit_model: RateLimitModel = "rate-limit-model",
        "how 100 requests/min and 1,200 invites/hour are counted";
    /// Setting `inactive` on an expired key.
    expired_key_inactive: ExpiredKeyInactive = "expired-key-inactive",
        "setting an expired key to inactive: refused (400) or accepted";
    /// Workspace name uniqueness.
    workspace_names: WorkspaceNames = "workspace-names",
        "whether two active workspaces may share a name";
    /// The Compliance API activity feed.
    activity_feed: ActivityFeed = "activity-feed",
        "the Compliance API activity feed: served, or refused with 403 or 404";
    /// The usage report.
    usage_report: UsageReport = "usage-report",
        "the messages usage report: served, or refused with 403";
    /// An Admin API key on bearer-only endpoints.
    identity_admin_key: IdentityAdminKey = "identity-admin-key",
        "an Admin API key on the service-account and federation endpoints (bearer only): 403 or 401";
    /// Names of archived service accounts.
    service_account_names: ServiceAccountNames = "service-account-names",
        "whether an archived service account's name stays taken (409 on create) or is freed";
    /// How an OAuth caller is refused a federation rule scope other than workspace:*.
    console_scope: ConsoleScope = "console-scope",
        "a federation rule scope that needs a Console session (org:admin): 403 or 400";
    /// Names of archived federation issuers and rules.
    federation_names: FederationNames = "federation-names",
        "whether an archived federation issuer's or rule's name stays taken (409) or is freed";
    /// How the token exchange refuses a denied assertion.
    exchange_denial: ExchangeDenial = "exchange-denial",
        "a denied token exchange: 401 authentication_error or 400 invalid_grant";
    /// The workspace of an exchange without workspace_id on a multi-workspace rule.
    exchange_workspace: ExchangeWorkspace = "exchange-workspace",
        "a token exchange without workspace_id on a rule enabled for several workspaces: the default workspace if covered, or denied";
}

impl Readings {
    /// The default readings with switch `name` set to its first non-default value.
    pub fn flipped(name: &str) -> Result<Self, ReadingError> {
        let mut r = Self::default();
        let switch = Self::SWITCHES
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ReadingError::UnknownSwitch(name.to_owned(), Self::switch_names()))?;
        r.set(name, switch.values[1])?;
        Ok(r)
    }

    /// Every switch set to its first non-default value.
    pub fn all_flipped() -> Self {
        let mut r = Self::default();
        for s in Self::SWITCHES {
            // Every switch has at least two values.
            let _ = r.set(s.name, s.values[1]);
        }
        r
    }

    /// The named profiles a test matrix iterates: `default`, one per switch flipped (named
    /// after the switch), and `all-flipped`.
    pub fn profiles() -> Vec<(&'static str, Readings)> {
        let mut out = vec![("default", Self::default())];
        for s in Self::SWITCHES {
            if let Ok(r) = Self::flipped(s.name) {
                out.push((s.name, r));
            }
        }
        out.push(("all-flipped", Self::all_flipped()));
        out
    }

    /// The profile with this name.
    pub fn profile(name: &str) -> Result<Self, ReadingError> {
        Self::profiles()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r)
            .ok_or_else(|| {
                ReadingError::UnknownProfile(
                    name.to_owned(),
                    Self::profiles()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
    }

    /// Parses `NAME=VALUE` and sets that switch.
    pub fn set_pair(&mut self, pair: &str) -> Result<(), ReadingError> {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        self.set(name.trim(), value.trim())
    }

    /// The switches whose value differs from the default, as `(name, value)`.
    pub fn differences(&self) -> Vec<(&'static str, &'static str)> {
        let default = Self::default();
        Self::SWITCHES
            .iter()
            .filter_map(|s| {
                let v = self.get(s.name)?;
                (Some(v) != default.get(s.name)).then_some((s.name, v))
            })
            .collect()
    }

    fn switch_names() -> String {
        Self::SWITCHES
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_switch_round_trips_and_flips() {
        for s in Readings::SWITCHES {
            assert!(s.values.len() >= 2, "{} has one value", s.name);
            let d = Readings::default();
            assert_eq!(d.get(s.name), Some(s.values[0]), "{} default", s.name);
            let f = Readings::flipped(s.name).unwrap();
            assert_eq!(f.differences(), vec![(s.name, s.values[1])]);
        }
        assert_eq!(
            Readings::all_flipped().differences().len(),
            Readings::SWITCHES.len()
        );
    }

    #[test]
    fn profiles_are_default_each_switch_and_all_flipped() {
        let p = Readings::profiles();
        assert_eq!(p.len(), Readings::SWITCHES.len() + 2);
        assert_eq!(p[0], ("default", Readings::default()));
        assert_eq!(p.last().unwrap().0, "all-flipped");
        assert_eq!(
            Readings::profile("key-shape").unwrap().key_shape,
            KeyShape::Earlier
        );
        assert!(Readings::profile("nope").is_err());
    }

    #[test]
    fn set_pair_names_the_bad_part() {
        let mut r = Readings::default();
        r.set_pair("implicit-members=listed").unwrap();
        assert_eq!(r.implicit_members, ImplicitMembers::Listed);
        let e = r
            .set_pair("implicit-members=maybe")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hidden, listed"), "{e}");
        let e = r.set_pair("colour=red").unwrap_err().to_string();
        assert!(e.contains("unknown reading \"colour\""), "{e}");
    }
}
