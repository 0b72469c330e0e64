//! What Docker's embedded DNS answers in a sandbox, kept per network and shared.
//!
//! libnetwork keeps a network's names in that network's service records, and a sandbox's
//! resolver asks the sandbox's networks in order, the first network that knows the name
//! answering (`Sandbox.ResolveName` in moby's `libnetwork/sandbox_dns_unix.go`, the records
//! in `libnetwork/network.go`). A zone here is one network's records; every sandbox on the
//! network holds the same `Arc`, so a container joining a network of N costs one new zone,
//! not N copies of N names.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::kernel::Map;
use crate::userland::apps::DnsRecord;

/// One network's names, looked up without regard to ASCII case as the resolver does.
#[derive(Clone, Debug, Default)]
pub struct DnsZone {
    /// Which network this is (`host1:appnet`), so another backend can follow its changes.
    pub key: String,
    records: Vec<DnsRecord>,
    /// Lower-cased name → index into `records`.
    index: Map<String, usize>,
    /// Address → the name a PTR query for it answers with (the container's, not an
    /// alias: libnetwork keeps only an endpoint's name in its `ipMap`; the first to claim
    /// an address keeps it).
    reverse: Map<Ipv4Addr, String>,
    /// What each container gives the zone, by its place among the daemon's containers: the
    /// records are these, in that order ([`DnsZone::add`]).
    entries: std::collections::BTreeMap<u64, ZoneEntry>,
}

/// One container's names on one network: its name, its short ID and its aliases, each with
/// whether it is a network alias (which several containers share: it answers with all of
/// them), and its address there.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneEntry {
    pub names: Vec<(String, bool)>,
    pub ip: Ipv4Addr,
}

/// A change of one network's zone: a container joined it, or left.
#[derive(Clone, Debug, PartialEq)]
pub enum ZoneOp {
    Add { key: String, seq: u64, entry: ZoneEntry },
    Remove { key: String, seq: u64 },
}

impl ZoneOp {
    pub fn key(&self) -> &str {
        match self {
            ZoneOp::Add { key, .. } | ZoneOp::Remove { key, .. } => key,
        }
    }
}

impl DnsZone {
    pub fn new(key: String) -> DnsZone {
        DnsZone {
            key,
            records: Vec::new(),
            index: Map::default(),
            reverse: Map::default(),
            entries: Default::default(),
        }
    }

    /// Adds the names of the container at place `seq`. The zone answers as if every
    /// container's names were added in their order, the first to claim a name answering
    /// for it: a container newer than all the others (a `docker run`) adds its names; one
    /// older (a `docker start` of a stopped one) makes the zone again.
    pub fn add(&mut self, seq: u64, entry: ZoneEntry) {
        let newest = self.entries.last_key_value().is_none_or(|(k, _)| *k < seq);
        if newest {
            self.put(&entry);
            self.entries.insert(seq, entry);
        } else {
            self.entries.insert(seq, entry);
            self.remake();
        }
    }

    /// Takes away the names of the container at place `seq` (it left the network).
    pub fn remove(&mut self, seq: u64) {
        if self.entries.remove(&seq).is_some() {
            self.remake();
        }
    }

    /// Applies `op` (whose key is this zone's).
    pub fn apply(&mut self, op: ZoneOp) {
        match op {
            ZoneOp::Add { seq, entry, .. } => self.add(seq, entry),
            ZoneOp::Remove { seq, .. } => self.remove(seq),
        }
    }

    fn put(&mut self, e: &ZoneEntry) {
        if let Some((name, false)) = e.names.first() {
            self.insert_ptr(e.ip, name);
        }
        for (name, shared) in &e.names {
            if *shared {
                self.insert_shared(name, e.ip);
            } else {
                self.insert(name.clone(), vec![e.ip]);
            }
        }
    }

    fn remake(&mut self) {
        self.records.clear();
        self.index.clear();
        self.reverse.clear();
        let entries = std::mem::take(&mut self.entries);
        for e in entries.values() {
            self.put(e);
        }
        self.entries = entries;
    }

    /// A zone holding `records`; of two records with one name, the first answers.
    pub fn from_records(key: String, records: Vec<DnsRecord>) -> DnsZone {
        let mut z = DnsZone::new(key);
        for r in records {
            z.insert(r.name, r.addrs);
        }
        z
    }

    /// Adds `name` → `addrs` unless the zone already answers `name`.
    pub fn insert(&mut self, name: String, addrs: Vec<Ipv4Addr>) {
        let lower = name.to_ascii_lowercase();
        if self.index.contains_key(&lower) {
            return;
        }
        self.index.insert(lower, self.records.len());
        self.records.push(DnsRecord { name, addrs });
    }

    /// Adds `ip` to what `name` answers: a network alias shared by several containers
    /// answers with all of them.
    pub fn insert_shared(&mut self, name: &str, ip: Ipv4Addr) {
        match self.index.get(&name.to_ascii_lowercase()) {
            Some(&i) => {
                let r = &mut self.records[i];
                if !r.addrs.contains(&ip) {
                    r.addrs.push(ip);
                }
            }
            None => self.insert(name.to_string(), vec![ip]),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<&[Ipv4Addr]> {
        let i = *self.index.get(&name.to_ascii_lowercase())?;
        Some(&self.records[i].addrs)
    }

    /// Makes a PTR query for `ip` answer `name` on this zone's network, unless another
    /// name has it.
    pub fn insert_ptr(&mut self, ip: Ipv4Addr, name: &str) {
        self.reverse.entry(ip).or_insert_with(|| name.to_string());
    }

    /// What a PTR query for `ip` answers: `<name>.<network>` (`network.ResolveIP` in
    /// libnetwork `network.go`). A zone made from a flat list of records has no network and
    /// answers none.
    pub fn ptr(&self, ip: Ipv4Addr) -> Option<String> {
        let network = self.network()?;
        self.reverse.get(&ip).map(|name| format!("{name}.{network}"))
    }

    /// The network's name, the last part of the key (none for a flat list of records).
    pub fn network(&self) -> Option<&str> {
        self.key.rsplit(':').next().filter(|n| !n.is_empty())
    }

    pub fn records(&self) -> &[DnsRecord] {
        &self.records
    }
}

/// Two zones are equal when they answer the same: the index follows from the records.
impl PartialEq for DnsZone {
    fn eq(&self, other: &DnsZone) -> bool {
        self.key == other.key && self.records == other.records && self.reverse == other.reverse
    }
}

impl Eq for DnsZone {}

/// A sandbox's embedded DNS: the zones of its networks in the order it joined them. In a
/// scenario file it is written (and printed) as the flat list of records the sandbox
/// answers, which becomes one zone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsZones(pub Vec<Arc<DnsZone>>);

/// What a sandbox whose networks' zones are `zones` (in order) answers for `name`
/// (`Sandbox.ResolveName` in libnetwork's `sandbox.go`): the name on any of its networks
/// first; then, for a name with dots, `a.b.c` as `a.b` on the network named `c`, then as
/// `a` on the network `b.c`.
pub fn resolve<'a, I>(zones: I, name: &str) -> Option<&'a [Ipv4Addr]>
where
    I: Iterator<Item = &'a DnsZone> + Clone,
{
    let name = name.strip_suffix('.').unwrap_or(name);
    if let Some(a) = zones.clone().find_map(|z| z.lookup(name)) {
        return Some(a);
    }
    let mut rest = name;
    while let Some(i) = rest.rfind('.') {
        let (req, network) = (&name[..i], &name[i + 1..]);
        if let Some(a) = zones.clone().filter(|z| z.network() == Some(network)).find_map(|z| z.lookup(req)) {
            return Some(a);
        }
        rest = &name[..i];
    }
    None
}

impl DnsZones {
    pub fn lookup(&self, name: &str) -> Option<&[Ipv4Addr]> {
        resolve(self.0.iter().map(|z| &**z), name)
    }

    /// What a PTR query for `ip` answers: the first of the sandbox's networks that has it
    /// (`Sandbox.ResolveIP`).
    pub fn ptr(&self, ip: Ipv4Addr) -> Option<String> {
        self.0.iter().find_map(|z| z.ptr(ip))
    }

    /// Every name the sandbox answers, each with the addresses of the first zone that has it.
    pub fn records(&self) -> Vec<DnsRecord> {
        let mut seen = crate::kernel::Set::default();
        let mut out = Vec::new();
        for z in &self.0 {
            for r in z.records() {
                if seen.insert(r.name.to_ascii_lowercase()) {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// The same zones, object for object (cheap: no record is compared).
    pub fn same(&self, other: &DnsZones) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|z| z.key.as_str())
    }
}

impl From<Vec<DnsRecord>> for DnsZones {
    fn from(records: Vec<DnsRecord>) -> DnsZones {
        DnsZones(vec![Arc::new(DnsZone::from_records(String::new(), records))])
    }
}

impl Serialize for DnsZones {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.records().serialize(s)
    }
}

impl<'de> Deserialize<'de> for DnsZones {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DnsZones, D::Error> {
        Ok(Vec::<DnsRecord>::deserialize(d)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, ip: [u8; 4]) -> DnsRecord {
        DnsRecord { name: name.into(), addrs: vec![ip.into()] }
    }

    #[test]
    fn the_first_network_that_knows_a_name_answers() {
        let a =
            Arc::new(DnsZone::from_records("h:a".into(), vec![rec("web", [10, 0, 0, 2]), rec("db", [10, 0, 0, 3])]));
        let b =
            Arc::new(DnsZone::from_records("h:b".into(), vec![rec("WEB", [10, 1, 0, 2]), rec("cache", [10, 1, 0, 4])]));
        let zones = DnsZones(vec![a.clone(), b.clone()]);
        assert_eq!(zones.lookup("Web"), Some(&[Ipv4Addr::new(10, 0, 0, 2)][..]));
        assert_eq!(zones.lookup("cache"), Some(&[Ipv4Addr::new(10, 1, 0, 4)][..]));
        assert_eq!(zones.lookup("nope"), None);
        let names: Vec<String> = zones.records().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["web", "db", "cache"]);
        let reversed = DnsZones(vec![b, a]);
        assert_eq!(reversed.lookup("web"), Some(&[Ipv4Addr::new(10, 1, 0, 2)][..]));
        assert!(!zones.same(&reversed));
        assert!(zones.same(&zones.clone()));
    }

    #[test]
    fn a_name_may_end_in_the_network_it_is_looked_up_on() {
        let a = Arc::new(DnsZone::from_records("h:a".into(), vec![rec("web", [10, 0, 0, 2])]));
        let b = Arc::new(DnsZone::from_records(
            "h:b.net".into(),
            vec![rec("web", [10, 1, 0, 2]), rec("x.y", [10, 1, 0, 3])],
        ));
        let zones = DnsZones(vec![a, b]);
        // `web.b.net` is `web` on `b.net`, `x.y.b.net` is `x.y` there; the first network
        // still answers a bare name, and a network the sandbox is not on answers nothing.
        assert_eq!(zones.lookup("web.b.net."), Some(&[Ipv4Addr::new(10, 1, 0, 2)][..]));
        assert_eq!(zones.lookup("WEB.a"), Some(&[Ipv4Addr::new(10, 0, 0, 2)][..]));
        assert_eq!(zones.lookup("x.y.b.net"), Some(&[Ipv4Addr::new(10, 1, 0, 3)][..]));
        assert_eq!(zones.lookup("web.c"), None);
        assert_eq!(zones.lookup("web.A"), None, "network names are compared as they are");
    }

    #[test]
    fn a_shared_alias_answers_with_every_container() {
        let mut z = DnsZone::new("h:n".into());
        z.insert("db1".into(), vec![[10, 0, 0, 2].into()]);
        z.insert_shared("database", [10, 0, 0, 2].into());
        z.insert_shared("DATABASE", [10, 0, 0, 3].into());
        z.insert_shared("database", [10, 0, 0, 3].into());
        assert_eq!(z.lookup("database"), Some(&[Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)][..]));
        z.insert("db1".into(), vec![[10, 0, 0, 9].into()]);
        assert_eq!(z.lookup("db1"), Some(&[Ipv4Addr::new(10, 0, 0, 2)][..]));
    }

    #[test]
    fn a_file_writes_the_flat_list_of_records() {
        let zones: DnsZones = vec![rec("web", [10, 0, 0, 2])].into();
        let text = ron::to_string(&zones).unwrap();
        let back: DnsZones = ron::from_str(&text).unwrap();
        assert_eq!(back.records(), zones.records());
    }

    proptest::proptest! {
        /// Containers joining and leaving in any order leave the zone that adding the ones
        /// still there, in their order, would make: the first to claim a name answers, a
        /// shared alias answers with all (the daemon's whole zone, `Engine::dns_zones`).
        #[test]
        fn changes_leave_the_zone_made_whole(
            ops in proptest::collection::vec((0u64..8, proptest::option::of(proptest::collection::vec((0u8..4, proptest::bool::ANY), 1..4))), 0..24),
        ) {
            let entry = |seq: u64, names: &[(u8, bool)]| ZoneEntry {
                names: names.iter().map(|(n, shared)| (["web", "DB", "db", "cache"][*n as usize].to_string(), *shared)).collect(),
                ip: Ipv4Addr::new(10, 0, 0, seq as u8 + 2),
            };
            let mut z = DnsZone::new("h:n".into());
            let mut there: std::collections::BTreeMap<u64, ZoneEntry> = Default::default();
            for (seq, names) in &ops {
                match names {
                    Some(names) => {
                        // A container is on a network once: it leaves before it joins again.
                        z.remove(*seq);
                        z.add(*seq, entry(*seq, names));
                        there.insert(*seq, entry(*seq, names));
                    }
                    None => {
                        z.remove(*seq);
                        there.remove(seq);
                    }
                }
            }
            // Made as the daemon's whole zone was before zones changed by entries: every
            // container's names inserted in order.
            let mut whole = DnsZone::new("h:n".into());
            for e in there.values() {
                for (name, shared) in &e.names {
                    if *shared {
                        whole.insert_shared(name, e.ip);
                    } else {
                        whole.insert(name.clone(), vec![e.ip]);
                    }
                }
            }
            proptest::prop_assert_eq!(z.records(), whole.records());
            for name in ["web", "db", "Db", "cache", "none"] {
                proptest::prop_assert_eq!(z.lookup(name), whole.lookup(name));
            }
        }
    }
}
