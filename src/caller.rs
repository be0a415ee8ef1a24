//! Who acts. A `Caller` is the user, role, project and region behind an operation: built from
//! a console session today and from an API credential later; the services never know which.

use crate::error::AppError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages the account's images and users.
    Admin,
    /// Full image rights.
    Member,
    /// Read-only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn can_modify_images(self) -> bool {
        matches!(self, Role::Admin | Role::Member)
    }
}

/// What an operation needs of its caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading: every role.
    View,
    /// Changing images, servers, disks, buckets and jobs: admins and members.
    Edit,
    /// The account's own settings and listings (sharing policy, KooGallery): admins only.
    Admin,
}

/// What the browser may know about the logged-in user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub account: String,
    pub user: String,
    pub role: Role,
    pub region: String,
    pub project_id: String,
}

/// The caller of an operation, with the project of the region they work in. Every query on
/// tenant data takes this (or its project id), so tenant scoping cannot be forgotten.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    pub project_id: String,
}

impl Caller {
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            account: self.account_name.clone(),
            user: self.user_name.clone(),
            role: self.role,
            region: self.region.clone(),
            project_id: self.project_id.clone(),
        }
    }

    /// `Forbidden` unless the caller's role allows `access`.
    pub fn require(&self, access: Access) -> Result<(), AppError> {
        match access {
            Access::View => Ok(()),
            Access::Edit if self.role.can_modify_images() => Ok(()),
            Access::Edit => Err(AppError::Forbidden),
            Access::Admin if self.role == Role::Admin => Ok(()),
            Access::Admin => Err(AppError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_viewers_are_read_only() {
        assert!(Role::Admin.can_modify_images());
        assert!(Role::Member.can_modify_images());
        assert!(!Role::Viewer.can_modify_images());
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn viewers_may_read_but_not_edit() {
        let caller = |role| Caller {
            user_id: "u".into(),
            user_name: "bob".into(),
            role,
            account_id: "a".into(),
            account_name: "acme".into(),
            region: "cn-north-4".into(),
            project_id: "p".into(),
        };
        assert_eq!(caller(Role::Viewer).require(Access::View), Ok(()));
        assert_eq!(caller(Role::Viewer).require(Access::Edit), Err(AppError::Forbidden));
        assert_eq!(caller(Role::Member).require(Access::Edit), Ok(()));
        assert_eq!(caller(Role::Member).require(Access::Admin), Err(AppError::Forbidden));
        assert_eq!(caller(Role::Admin).require(Access::Admin), Ok(()));
    }
}
