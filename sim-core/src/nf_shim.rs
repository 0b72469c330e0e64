//! Temporary stand-in with the netfilter module's API while it is being written.
#![allow(dead_code, unused_variables)]
pub use std::net::Ipv4Addr;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Raw,
    Mangle,
    Nat,
    Filter,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrType {
    Local,
    Unicast,
    Broadcast,
    Multicast,
    Unspec,
}
#[derive(Clone, Debug, Default)]
pub struct Netfilter;
impl Netfilter {
    pub fn new() -> Self {
        Netfilter
    }
    pub fn exec(&mut self, table: Table, cmd: &str) -> Result<(), RuleError> {
        Ok(())
    }
    pub fn save(&self, counters: bool) -> String {
        String::new()
    }
    pub fn is_inert(&self) -> bool {
        true
    }
    pub fn hook(
        &mut self,
        hook: Hook,
        pkt: &mut [u8],
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        now_ns: u64,
    ) -> HookResult {
        HookResult { verdict: Verdict::Accept, notes: vec![] }
    }
    pub fn conntrack_entries(&self) -> Vec<String> {
        vec![]
    }
}
#[derive(Clone, Debug, Default)]
pub struct PacketMeta {
    pub mark: u32,
}
pub struct HookCtx<'a> {
    pub in_if: Option<&'a str>,
    pub out_if: Option<&'a str>,
    pub addr_type: &'a dyn Fn(Ipv4Addr) -> AddrType,
    pub if_primary_addr: &'a dyn Fn(&str) -> Option<Ipv4Addr>,
}
#[derive(Debug)]
pub struct HookResult {
    pub verdict: Verdict,
    pub notes: Vec<Note>,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub table: Table,
    pub chain: String,
    pub rule: Option<String>,
}
impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}/{}", self.table, self.chain)
    }
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub line: Option<usize>,
    pub message: String,
}
impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for RuleError {}
