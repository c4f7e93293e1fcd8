//! String enums of the Admin API, tolerant of values added later.

use std::fmt;

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of orgform does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The wire spelling of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// Parses a wire value; unknown values become `Unknown`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Whether this is a value orgform knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::parse(&value))
            }
        }
    };
}

string_enum! {
    /// An organization role (`User.role`, `Invite.role`).
    pub enum OrgRole {
        /// Playground only.
        User => "user",
        /// Playground and Claude Code.
        ClaudeCodeUser => "claude_code_user",
        /// Can manage API keys.
        Developer => "developer",
        /// Billing access; implicitly `workspace_billing` in every workspace.
        Billing => "billing",
        /// Full access; implicitly `workspace_admin` everywhere; never grantable through the API.
        Admin => "admin",
        /// Enterprise member managed by the organization.
        Managed => "managed",
        /// Enterprise membership administrator.
        MembershipAdmin => "membership_admin",
        /// Enterprise owner.
        Owner => "owner",
        /// Enterprise primary owner.
        PrimaryOwner => "primary_owner",
    }
}

impl OrgRole {
    /// Roles the API can neither grant nor revoke nor remove: admins and owners.
    /// Unknown roles count as administrative, the conservative choice.
    pub fn is_administrative(&self) -> bool {
        matches!(
            self,
            Self::Admin
                | Self::Owner
                | Self::PrimaryOwner
                | Self::MembershipAdmin
                | Self::Unknown(_)
        )
    }

    /// Roles that exist only in Claude Enterprise organizations.
    pub fn is_enterprise_only(&self) -> bool {
        matches!(
            self,
            Self::Managed | Self::Owner | Self::PrimaryOwner | Self::MembershipAdmin
        )
    }

    /// The workspace role this organization role holds implicitly in every workspace.
    pub fn implicit_workspace_role(&self) -> Option<WorkspaceRole> {
        match self {
            Self::Admin | Self::Owner | Self::PrimaryOwner => Some(WorkspaceRole::WorkspaceAdmin),
            Self::Billing => Some(WorkspaceRole::WorkspaceBilling),
            _ => None,
        }
    }
}

string_enum! {
    /// A role inside one workspace.
    pub enum WorkspaceRole {
        /// Playground only.
        WorkspaceUser => "workspace_user",
        /// Keys and API, without session tracing or file download.
        WorkspaceRestrictedDeveloper => "workspace_restricted_developer",
        /// Keys and API.
        WorkspaceDeveloper => "workspace_developer",
        /// Full control of the workspace.
        WorkspaceAdmin => "workspace_admin",
        /// Inherited from the `billing` organization role only; never assignable.
        WorkspaceBilling => "workspace_billing",
    }
}

string_enum! {
    /// A service account's organization role.
    pub enum ServiceAccountRole {
        /// May be the target of a rule granting `org:admin`.
        Admin => "admin",
        /// The default.
        Developer => "developer",
    }
}

string_enum! {
    /// The status of an invite.
    pub enum InviteStatus {
        /// Waiting for the recipient, inside its 21 days.
        Pending => "pending",
        /// Accepted: the person is now a member.
        Accepted => "accepted",
        /// Past its 21 days without acceptance.
        Expired => "expired",
        /// Withdrawn; never listed by the API.
        Deleted => "deleted",
    }
}

string_enum! {
    /// The status of a workspace API key.
    pub enum ApiKeyStatus {
        /// Usable.
        Active => "active",
        /// Switched off; can be switched back on.
        Inactive => "inactive",
        /// Revoked for good.
        Archived => "archived",
        /// Past its expiry; cannot be reactivated.
        Expired => "expired",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let role: OrgRole = serde_json::from_str("\"galactic_emperor\"").unwrap();
        assert_eq!(role, OrgRole::Unknown("galactic_emperor".into()));
        assert_eq!(
            serde_json::to_string(&role).unwrap(),
            "\"galactic_emperor\""
        );
        assert!(
            role.is_administrative(),
            "unknown roles are treated as untouchable"
        );
    }

    #[test]
    fn known_values_parse() {
        assert_eq!(OrgRole::parse("claude_code_user"), OrgRole::ClaudeCodeUser);
        assert_eq!(
            WorkspaceRole::parse("workspace_billing"),
            WorkspaceRole::WorkspaceBilling
        );
        assert_eq!(ApiKeyStatus::parse("expired"), ApiKeyStatus::Expired);
        assert_eq!(InviteStatus::parse("deleted").as_str(), "deleted");
        assert!(!OrgRole::Developer.is_administrative());
        assert!(OrgRole::Managed.is_enterprise_only() && !OrgRole::Admin.is_enterprise_only());
        assert_eq!(
            OrgRole::Billing.implicit_workspace_role(),
            Some(WorkspaceRole::WorkspaceBilling)
        );
        assert_eq!(OrgRole::Developer.implicit_workspace_role(), None);
    }
}
