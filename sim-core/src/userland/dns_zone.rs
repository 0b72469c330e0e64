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
}

impl DnsZone {
    pub fn new(key: String) -> DnsZone {
        DnsZone { key, records: Vec::new(), index: Map::default() }
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

    pub fn records(&self) -> &[DnsRecord] {
        &self.records
    }
}

/// Two zones are equal when they answer the same: the index follows from the records.
impl PartialEq for DnsZone {
    fn eq(&self, other: &DnsZone) -> bool {
        self.key == other.key && self.records == other.records
    }
}

impl Eq for DnsZone {}

/// A sandbox's embedded DNS: the zones of its networks in the order it joined them. In a
/// scenario file it is written (and printed) as the flat list of records the sandbox
/// answers, which becomes one zone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsZones(pub Vec<Arc<DnsZone>>);

impl DnsZones {
    pub fn lookup(&self, name: &str) -> Option<&[Ipv4Addr]> {
        self.0.iter().find_map(|z| z.lookup(name))
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
}
