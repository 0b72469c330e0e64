//! How the daemon turns what a user typed into one object: a full ID, then a full name, then
//! an ID prefix, as long as the match is unique.
//!
//! The order matters to anyone who names things with hexadecimal words: a container `cafe` or
//! `db` is that container, even when an earlier container's ID happens to start with `cafe`.
//! Containers: moby `daemon/container.go` (`GetContainer`: ID, then `GetByName`, then the
//! truncated-ID index, whose ambiguity error is `multiple IDs found with provided prefix`).
//! Networks: moby `daemon/network.go` (`FindNetwork`: ID, then name, then ID prefix, each
//! ambiguity an error of its own). Services: moby `daemon/cluster/helpers.go`
//! (`getService`: ID, then name, then ID prefix). See `docs/docker-model.md`.

/// The outcome of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    One(usize),
    /// Several objects carry this name (possible only for networks).
    AmbiguousName(usize),
    /// Several IDs start with this prefix, and no ID or name matched whole.
    AmbiguousPrefix(usize),
    None,
}

impl Found {
    pub fn index(self) -> Option<usize> {
        match self {
            Found::One(i) => Some(i),
            _ => None,
        }
    }

    /// The network found, or why not in dockerd's words (`daemon/network.go` `FindNetwork`).
    pub fn network(self, term: &str) -> Result<usize, String> {
        let daemon = "Error response from daemon: network";
        match self {
            Found::One(i) => Ok(i),
            Found::None => Err(format!("{daemon} {term} not found")),
            Found::AmbiguousName(k) => Err(format!("{daemon} {term} is ambiguous ({k} matches found on name)")),
            Found::AmbiguousPrefix(k) => {
                Err(format!("{daemon} {term} is ambiguous ({k} matches found based on ID prefix)"))
            }
        }
    }
}

/// Looks `term` up among `(id, name)` pairs, in the daemon's order. An empty term matches
/// nothing (the daemon refuses it as an invalid identifier).
pub fn find<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>, term: &str) -> Found {
    if term.is_empty() {
        return Found::None;
    }
    let mut by_name = Vec::new();
    let mut by_prefix = Vec::new();
    for (i, (id, name)) in items.into_iter().enumerate() {
        if id == term {
            return Found::One(i);
        }
        if name == term {
            by_name.push(i);
        }
        if id.starts_with(term) {
            by_prefix.push(i);
        }
    }
    match (by_name.as_slice(), by_prefix.as_slice()) {
        ([i], _) => Found::One(*i),
        ([_, ..], _) => Found::AmbiguousName(by_name.len()),
        ([], [i]) => Found::One(*i),
        ([], [_, ..]) => Found::AmbiguousPrefix(by_prefix.len()),
        ([], []) => Found::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS: [(&str, &str); 4] =
        [("cafe01aa", "web"), ("db77aa00", "cafe"), ("ab12cd34", "db"), ("ab99ee11", "ab12cd34")];

    #[test]
    fn full_id_then_name_then_unique_prefix() {
        let f = |t| find(ITEMS, t);
        // `cafe` names the second even though the first's ID starts with it.
        assert_eq!(f("cafe"), Found::One(1));
        assert_eq!(f("db"), Found::One(2));
        // A full ID wins over a name spelled the same way.
        assert_eq!(f("ab12cd34"), Found::One(2));
        assert_eq!(f("cafe01"), Found::One(0));
        assert_eq!(f("ab"), Found::AmbiguousPrefix(2));
        assert_eq!(f("zz"), Found::None);
        assert_eq!(f(""), Found::None);
        let twice = [("11", "n"), ("22", "n")];
        assert_eq!(find(twice, "n"), Found::AmbiguousName(2));
    }
}
