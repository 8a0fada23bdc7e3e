//! Who may read and write which private channel: the dev server's stand-in for the RLS policies
//! on `realtime.messages`. Topics are `{casino_id}` (list feed) and `{casino_id}:{resource_id}`
//! (detail view); a caller must work for that casino and hold a staff role the table allows.
//! `service_role` tokens (server code) may do anything.
//!
//! | staff role         | read list feed | read detail | write (publish) |
//! |--------------------|----------------|-------------|-----------------|
//! | `admin`            | yes            | yes         | yes             |
//! | `pit_boss`         | yes            | yes         | yes             |
//! | `floor_supervisor` | yes            | yes         | yes             |
//! | `cage`             | yes            | yes         | yes             |
//! | `dealer`           | no             | yes         | no              |
//! | anything else      | no             | no          | no              |

use crate::jwt::Claims;
use casino_realtime::catalog::Uuid;

/// One row of the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The staff role (`staff_role` claim).
    pub staff_role: &'static str,
    /// May read the list feed `{casino_id}`.
    pub list: bool,
    /// May read detail channels `{casino_id}:{resource_id}`.
    pub detail: bool,
    /// May publish.
    pub write: bool,
}

/// The policy table.
pub const POLICY: &[Rule] = &[
    Rule {
        staff_role: "admin",
        list: true,
        detail: true,
        write: true,
    },
    Rule {
        staff_role: "pit_boss",
        list: true,
        detail: true,
        write: true,
    },
    Rule {
        staff_role: "floor_supervisor",
        list: true,
        detail: true,
        write: true,
    },
    Rule {
        staff_role: "cage",
        list: true,
        detail: true,
        write: true,
    },
    Rule {
        staff_role: "dealer",
        list: false,
        detail: true,
        write: false,
    },
];

/// The casino and resource a sub-topic names: `"<casino>"` or `"<casino>:<resource>"`.
pub fn parse_subtopic(subtopic: &str) -> Option<(Uuid, Option<&str>)> {
    let (casino, resource) = match subtopic.split_once(':') {
        Some((casino, resource)) if !resource.is_empty() => (casino, Some(resource)),
        Some(_) => return None,
        None => (subtopic, None),
    };
    Some((Uuid::parse(casino)?, resource))
}

/// The rule for a caller of the topic's casino, and whether the topic is a detail channel.
fn rule(claims: &Claims, subtopic: &str) -> Option<(Rule, bool)> {
    let (casino, resource) = parse_subtopic(subtopic)?;
    if claims.casino_id != Some(casino) {
        return None;
    }
    let staff = claims.staff_role.as_deref()?;
    POLICY
        .iter()
        .find(|r| r.staff_role == staff)
        .map(|r| (*r, resource.is_some()))
}

/// Whether `claims` may join (read) the private channel `subtopic`.
pub fn can_read(claims: &Claims, subtopic: &str) -> bool {
    claims.role == "service_role"
        || rule(claims, subtopic).is_some_and(|(r, detail)| if detail { r.detail } else { r.list })
}

/// Whether `claims` may publish to the private channel `subtopic`.
pub fn can_write(claims: &Claims, subtopic: &str) -> bool {
    claims.role == "service_role" || rule(claims, subtopic).is_some_and(|(r, _)| r.write)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASINO: &str = "11111111-1111-4111-8111-111111111111";
    const OTHER: &str = "22222222-2222-4222-8222-222222222222";

    fn claims(role: &str, staff: Option<&str>, casino: &str) -> Claims {
        Claims {
            role: role.into(),
            exp: i64::MAX,
            staff_role: staff.map(Into::into),
            casino_id: Uuid::parse(casino),
            sub: None,
        }
    }

    #[test]
    fn staff_of_the_casino_read_by_role() {
        let list = CASINO.to_owned();
        let detail = format!("{CASINO}:table-1");
        let pit_boss = claims("authenticated", Some("pit_boss"), CASINO);
        assert!(
            can_read(&pit_boss, &list)
                && can_read(&pit_boss, &detail)
                && can_write(&pit_boss, &list)
        );
        let dealer = claims("authenticated", Some("dealer"), CASINO);
        assert!(
            !can_read(&dealer, &list) && can_read(&dealer, &detail) && !can_write(&dealer, &detail)
        );
        let guest = claims("authenticated", Some("guest"), CASINO);
        assert!(!can_read(&guest, &detail));
        let anon = claims("anon", None, CASINO);
        assert!(!can_read(&anon, &list));
    }

    #[test]
    fn another_casino_is_never_readable() {
        let pit_boss = claims("authenticated", Some("pit_boss"), OTHER);
        assert!(!can_read(&pit_boss, CASINO));
        assert!(!can_read(&pit_boss, "not-a-casino"));
        assert!(can_read(&claims("service_role", None, OTHER), CASINO));
    }
}
