//! Who an event is for. One session can serve several clients (the tabs of a browser sharing
//! one connection, docs/tabs.md): each subscription belongs to a client, and an event's actions
//! reach exactly the clients subscribed to the channel it came on. A client is a small number
//! (at most [`MAX_CLIENTS`]), so a set of them is one word, cheap to keep beside every key the
//! replay filter remembers.

/// One client of a session: `0` is the one every session starts with (a tab on its own).
pub type ClientId = u32;

/// Clients one session serves at most.
pub const MAX_CLIENTS: u32 = 64;

/// A set of clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience(u64);

impl Audience {
    /// Nobody.
    pub const NONE: Audience = Audience(0);

    /// Only `client` (which must be below [`MAX_CLIENTS`]).
    pub const fn of(client: ClientId) -> Audience {
        debug_assert!(client < MAX_CLIENTS);
        Audience(1 << client)
    }

    /// Whether `client` is in it.
    pub fn contains(self, client: ClientId) -> bool {
        client < MAX_CLIENTS && self.0 & (1 << client) != 0
    }

    /// Whether nobody is in it.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Everyone in either.
    #[must_use]
    pub fn with(self, other: Audience) -> Audience {
        Audience(self.0 | other.0)
    }

    /// Those in both.
    #[must_use]
    pub fn and(self, other: Audience) -> Audience {
        Audience(self.0 & other.0)
    }

    /// Those in `self` and not in `other`.
    #[must_use]
    pub fn without(self, other: Audience) -> Audience {
        Audience(self.0 & !other.0)
    }

    /// The clients in it, lowest first.
    pub fn iter(self) -> impl Iterator<Item = ClientId> {
        (0..MAX_CLIENTS).filter(move |&c| self.contains(c))
    }

    /// As stored (the replay filter keeps the bits beside each key).
    pub(crate) fn bits(self) -> u64 {
        self.0
    }

    pub(crate) fn from_bits(bits: u64) -> Audience {
        Audience(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_of_clients() {
        let a = Audience::of(0).with(Audience::of(63));
        assert!(a.contains(0) && a.contains(63) && !a.contains(1) && !a.contains(64));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 63]);
        assert_eq!(a.without(Audience::of(0)), Audience::of(63));
        assert!(Audience::NONE.is_empty() && !a.is_empty());
    }
}
