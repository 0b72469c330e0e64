//! Linux netfilter (iptables, legacy semantics) for one network namespace.
//!
//! * [`Netfilter::exec`] / [`Netfilter::restore`] take rules in iptables syntax, [`Netfilter::save`]
//!   prints them back exactly as `iptables-save` (1.8.9) does.
//! * [`Netfilter::hook`] runs one of the five hooks on an IPv4 packet in the order Linux registers
//!   its hook functions (raw, conntrack, mangle, nat, filter, conntrack confirm), rewriting the
//!   packet in place for NAT and reporting a verdict plus explanation [`Note`]s.
//! * Connection tracking ([`conntrack`]) keeps NAT bindings so that later packets of a connection,
//!   its replies and ICMP errors about it are translated the way `nf_nat` does.
//!
//! Files: `rule.rs` parses and prints rules, `eval.rs` walks chains, `conntrack.rs` tracks
//! connections, `nat.rs` reads packets and rewrites them with checksum fix-ups.

mod conntrack;
mod eval;
mod nat;
mod rule;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

pub use self::rule::{ListFlags, Names, RejectWith, Rule};
pub use std::net::Ipv4Addr;

pub use self::conntrack::ConnDesc;
use self::conntrack::{Conn, Conntrack, CtInfo, Dir};
use self::eval::{EvalPkt, Outcome};
use self::nat::{Manip, PktInfo};
use self::rule::Command;

/// An iptables table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Raw,
    Mangle,
    Nat,
    Filter,
}

impl Table {
    /// The order in which [`Netfilter::save`] prints tables.
    pub const ALL: [Table; 4] = [Table::Raw, Table::Mangle, Table::Nat, Table::Filter];

    pub fn name(self) -> &'static str {
        match self {
            Table::Raw => "raw",
            Table::Mangle => "mangle",
            Table::Nat => "nat",
            Table::Filter => "filter",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The built-in chains Linux registers for this table, in `iptables-save` order.
    pub fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            Table::Raw => &["PREROUTING", "OUTPUT"],
            Table::Mangle => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
            Table::Nat => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
            Table::Filter => &["INPUT", "FORWARD", "OUTPUT"],
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A netfilter hook (where in the IPv4 path a packet is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    /// The built-in chain name of this hook.
    pub fn chain_name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    pub fn from_chain(name: &str) -> Option<Hook> {
        [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting]
            .into_iter()
            .find(|h| h.chain_name() == name)
    }
}

/// What the namespace's routing tables say about an address (`RTN_*`), for `-m addrtype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrType {
    Local,
    Unicast,
    Broadcast,
    Multicast,
    Unspec,
}

/// Per-packet state carried between the hooks of one packet (Linux keeps it in the skb:
/// `skb->mark` and `skb->_nfct`). Start each packet with `PacketMeta::default()` at PREROUTING or
/// OUTPUT and pass the same value to its later hooks. Keep it across loopback, like the kernel
/// keeps the conntrack reference of a looped-back skb.
#[derive(Clone, Debug, Default)]
pub struct PacketMeta {
    pub mark: u32,
    ct: CtRef,
    /// IPVS scheduled this packet (skb->ipvs_property).
    pub ipvs: bool,
    /// Reassembled on its way through: the largest fragment it came in, which the way out
    /// cuts it to again (`IPCB(skb)->frag_max_size`); 0 for a packet that came whole.
    pub frag_max: u16,
}

impl PacketMeta {
    /// The conntrack state of the packet as `-m conntrack --ctstate` sees it, once a hook tracked it:
    /// "NEW", "ESTABLISHED", "RELATED", "INVALID", or "" before any hook ran.
    pub fn ct_state(&self) -> &'static str {
        match &self.ct {
            CtRef::None => "",
            CtRef::Invalid => "INVALID",
            CtRef::New(_) => "NEW",
            CtRef::Tracked { info, .. } => info.name(),
            CtRef::Attached { .. } => "RELATED",
        }
    }
}

/// The skb's conntrack reference.
#[derive(Clone, Debug, Default)]
enum CtRef {
    /// Not looked at by conntrack yet.
    #[default]
    None,
    /// Conntrack could not track it (ctstate INVALID).
    Invalid,
    /// First packet of a connection, not yet confirmed (inserted into the table at the end of
    /// POSTROUTING or INPUT, like `nf_conntrack_confirm`; dropped packets leave no entry).
    New(Box<Conn>),
    /// A packet of a confirmed connection (or an ICMP error RELATED to it).
    Tracked { id: u64, dir: Dir, info: CtInfo },
    /// A REJECT rule's RST carrying the connection of a packet dropped before it was confirmed
    /// (`nf_ct_attach` of an unconfirmed entry): RELATED, travelling in `dir`, never confirmed
    /// (`__nf_conntrack_confirm` ignores packets not in the original direction), and gone with
    /// the rejected packet.
    Attached { conn: Box<Conn>, dir: Dir },
}

/// What the hook needs to know about the namespace.
pub struct HookCtx<'a> {
    /// The input device name (PREROUTING, INPUT, FORWARD).
    pub in_if: Option<&'a str>,
    /// The output device (FORWARD, OUTPUT, POSTROUTING).
    pub out_if: Option<&'a str>,
    /// What the namespace's local table says about an address.
    pub addr_type: &'a dyn Fn(Ipv4Addr) -> AddrType,
    /// Primary IPv4 of an interface, for MASQUERADE (out_if) and REDIRECT (in_if; OUTPUT uses 127.0.0.1).
    pub if_primary_addr: &'a dyn Fn(&str) -> Option<Ipv4Addr>,
}

#[derive(Debug)]
pub struct HookResult {
    pub verdict: Verdict,
    pub notes: Vec<Note>,
    /// Set (with `verdict == Drop`) when a REJECT rule decided: the caller should answer with this
    /// ICMP error or TCP RST, as `ipt_REJECT` does, and drop the packet.
    pub reject: Option<RejectWith>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Drop,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
        })
    }
}

/// An address and port (ICMP echo: identifier; 0 for protocols without ports).
pub type Endpoint = (Ipv4Addr, u16);

/// One explanation record for students: which table/chain/rule decided or rewrote what.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    /// The table whose hook function acted (conntrack records use `Raw`, the table before which
    /// conntrack runs; they print as `conntrack/...`).
    pub table: Table,
    /// The built-in chain of the hook (the rule itself may sit in a user chain, see `rule`).
    pub chain: &'static str,
    /// The deciding rule, `None` for policies and conntrack.
    pub rule: Option<RuleRef>,
    pub what: NoteKind,
}

/// The rule a note quotes: its text as `iptables-save` prints it (`-A CHAIN …`, shared with
/// the rule) and its place in its chain, 1-based as `iptables -L --line-numbers` counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub text: Arc<str>,
    pub index: u32,
}

/// Source or destination of a packet, for NAT notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NatField {
    Src,
    Dst,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NoteKind {
    /// A rule with `-j ACCEPT` matched: the packet leaves this table (later tables still run).
    Accept,
    /// A rule with `-j DROP` matched.
    Drop,
    /// A REJECT rule matched.
    Reject(RejectWith),
    /// The chain's policy decided (only DROP policies are reported).
    Policy(Verdict),
    /// First packet of a connection: a nat rule set up a binding.
    Dnat {
        from: Endpoint,
        to: Endpoint,
    },
    Snat {
        from: Endpoint,
        to: Endpoint,
    },
    Masquerade {
        from: Endpoint,
        to: Endpoint,
    },
    Redirect {
        from: Endpoint,
        to: Endpoint,
    },
    /// `-j MARK` set the packet mark to this value.
    Mark(u32),
    /// `-j LOG` matched (no effect besides counting).
    Log {
        prefix: String,
    },
    /// A new connection was confirmed into the conntrack table.
    ConntrackNew {
        conn: ConnDesc,
    },
    /// The first reply of a connection was seen: it is ESTABLISHED from now on.
    ConntrackEstablished {
        conn: ConnDesc,
    },
    /// An ICMP error about a tracked connection (ctstate RELATED).
    ConntrackRelated {
        conn: ConnDesc,
    },
    /// Conntrack could not track the packet (ctstate INVALID), e.g. a TCP SYN-ACK without entry.
    ConntrackInvalid {
        why: &'static str,
    },
    /// A later packet of a connection in its original direction, rewritten by the stored binding.
    NatBinding {
        field: NatField,
        from: Endpoint,
        to: Endpoint,
    },
    /// A reply packet, with the binding undone (dst: un-SNAT, src: un-DNAT).
    ReverseNat {
        field: NatField,
        from: Endpoint,
        to: Endpoint,
    },
    /// An ICMP error about a NATed connection: outer address and embedded header translated.
    RelatedNat {
        field: NatField,
        from: Ipv4Addr,
        to: Ipv4Addr,
        inner_from: Endpoint,
        inner_to: Endpoint,
    },
}

impl NoteKind {
    fn is_conntrack(&self) -> bool {
        matches!(
            self,
            NoteKind::ConntrackNew { .. }
                | NoteKind::ConntrackEstablished { .. }
                | NoteKind::ConntrackRelated { .. }
                | NoteKind::ConntrackInvalid { .. }
                | NoteKind::NatBinding { .. }
                | NoteKind::ReverseNat { .. }
                | NoteKind::RelatedNat { .. }
        )
    }
}

struct Ep(Endpoint);
impl fmt::Display for Ep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            (a, 0) => write!(f, "{a}"),
            (a, p) => write!(f, "{a}:{p}"),
        }
    }
}

impl fmt::Display for NatField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatField::Src => "src",
            NatField::Dst => "dst",
        })
    }
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteKind::Accept => f.write_str("ACCEPT"),
            NoteKind::Drop => f.write_str("DROP"),
            NoteKind::Reject(w) => write!(f, "REJECT with {w}"),
            NoteKind::Policy(v) => write!(f, "policy {v}"),
            NoteKind::Dnat { from, to } => write!(f, "DNAT {} → {}", Ep(*from), Ep(*to)),
            NoteKind::Snat { from, to } => write!(f, "SNAT {} → {}", Ep(*from), Ep(*to)),
            NoteKind::Masquerade { from, to } => write!(f, "MASQUERADE {} → {}", Ep(*from), Ep(*to)),
            NoteKind::Redirect { from, to } => write!(f, "REDIRECT {} → {}", Ep(*from), Ep(*to)),
            NoteKind::Mark(m) => write!(f, "mark set to {m:#x}"),
            NoteKind::Log { prefix } => write!(f, "LOG {prefix:?}"),
            NoteKind::ConntrackNew { conn } => write!(f, "new connection {conn}"),
            NoteKind::ConntrackEstablished { conn } => write!(f, "reply seen, ESTABLISHED {conn}"),
            NoteKind::ConntrackRelated { conn } => write!(f, "ICMP error RELATED to {conn}"),
            NoteKind::ConntrackInvalid { why } => write!(f, "INVALID ({why})"),
            NoteKind::NatBinding { field, from, to } => {
                write!(f, "NAT binding of the connection: {field} {} → {}", Ep(*from), Ep(*to))
            }
            NoteKind::ReverseNat { field, from, to } => {
                let undo = if *field == NatField::Dst { "un-SNAT" } else { "un-DNAT" };
                write!(f, "reply, {undo}: {field} {} → {}", Ep(*from), Ep(*to))
            }
            NoteKind::RelatedNat { field, from, to, inner_from, inner_to } => write!(
                f,
                "ICMP error translated: {field} {from} → {to}, embedded packet {} → {}",
                Ep(*inner_from),
                Ep(*inner_to)
            ),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = if self.what.is_conntrack() { "conntrack" } else { self.table.name() };
        write!(f, "{scope}/{}: ", self.chain)?;
        if let Some(r) = &self.rule {
            write!(f, "{} → ", r.text)?;
        }
        write!(f, "{}", self.what)
    }
}

/// A rule or command that could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based line number (from [`Netfilter::restore`]).
    pub line: Option<usize>,
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        RuleError { line: None, message: message.into() }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RuleError {}

/// A chain: built-in ones have a policy and policy counters.
#[derive(Clone, Debug)]
struct Chain {
    name: String,
    policy: Option<Verdict>,
    /// What reached the policy (the lab's checks read these).
    pkts: u64,
    bytes: u64,
    /// Whether the kernel keeps the policy's counters: iptables-nft makes a base chain without
    /// a counter (its policy then lists as `0 packets, 0 bytes`) unless counters were loaded
    /// into it (`iptables-restore -c`); traces/kernel/linux/iptables-list.ron shows both.
    counted: bool,
    rules: Vec<Rule>,
}

impl Chain {
    /// The policy's counters as `iptables -L -v` and `iptables-save -c` print them.
    fn shown_counters(&self) -> (u64, u64) {
        if self.counted { (self.pkts, self.bytes) } else { (0, 0) }
    }
}

/// One table: built-in chains first (in [`Table::builtin_chains`] order), then user chains sorted
/// by name, which is the order libiptc / iptables-save 1.8.9 use.
#[derive(Clone, Debug)]
struct TableState {
    table: Table,
    chains: Vec<Chain>,
}

impl TableState {
    fn new(table: Table) -> Self {
        let chains = table
            .builtin_chains()
            .iter()
            .map(|n| Chain {
                name: (*n).to_string(),
                policy: Some(Verdict::Accept),
                pkts: 0,
                bytes: 0,
                counted: false,
                rules: Vec::new(),
            })
            .collect();
        TableState { table, chains }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.chains.iter().position(|c| c.name == name)
    }

    fn n_builtin(&self) -> usize {
        self.table.builtin_chains().len()
    }

    /// Index of the built-in chain for `hook`, if this table hooks there.
    fn builtin_index(&self, hook: Hook) -> Option<usize> {
        let name = hook.chain_name();
        self.table.builtin_chains().iter().position(|c| *c == name)
    }

    /// No rules and all policies ACCEPT: running the table cannot change anything.
    fn is_inert(&self) -> bool {
        self.chains.iter().all(|c| c.rules.is_empty() && c.policy != Some(Verdict::Drop))
    }

    /// Every chain, or the one named; `Err` with iptables' (nf_tables) words when it does not
    /// exist.
    fn chains_named(&self, chain: Option<&str>) -> Result<Vec<&Chain>, String> {
        match chain {
            None => Ok(self.chains.iter().collect()),
            Some(name) => self.find(name).map(|i| vec![&self.chains[i]]).ok_or_else(|| {
                format!(
                    "iptables v1.8.9 (nf_tables): chain `{name}' in table `{}' is incompatible, use 'nft' tool.",
                    self.table
                )
            }),
        }
    }

    /// Whether `save` prints this table: any rule, user chain or non-ACCEPT policy.
    fn is_shown(&self) -> bool {
        self.chains.len() > self.n_builtin() || !self.is_inert()
    }

    /// Whether some rule of chain `from` (transitively) jumps or goes to chain `to`.
    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = vec![from.to_string()];
        let mut todo = vec![from.to_string()];
        while let Some(c) = todo.pop() {
            if c == to {
                return true;
            }
            let Some(i) = self.find(&c) else { continue };
            for r in &self.chains[i].rules {
                if let Some(t) = r.jump_target()
                    && !seen.iter().any(|s| s == t)
                {
                    seen.push(t.to_string());
                    todo.push(t.to_string());
                }
            }
        }
        false
    }

    fn referenced(&self, name: &str) -> bool {
        self.chains.iter().any(|c| c.rules.iter().any(|r| r.jump_target() == Some(name)))
    }

    fn chain_mut(&mut self, name: &str) -> Result<&mut Chain, RuleError> {
        match self.find(name) {
            Some(i) => Ok(&mut self.chains[i]),
            None => Err(RuleError::new(format!("chain `{name}` does not exist in table {}", self.table))),
        }
    }

    /// Checks that `rule` may live in chain `chain` of this table (what the kernel checks at commit).
    fn validate(&self, chain: &str, rule: &Rule) -> Result<(), RuleError> {
        let t = self.table;
        if self.find(chain).is_none() {
            return Err(RuleError::new(format!("chain `{chain}` does not exist in table {t}")));
        }
        rule.validate_table(t)?;
        if let Some(hook) = Hook::from_chain(chain).filter(|_| self.table.builtin_chains().contains(&chain)) {
            rule.validate_hook(hook)?;
        }
        if let Some(target) = rule.jump_target() {
            match self.find(target) {
                None => {
                    return Err(RuleError::new(format!(
                        "unknown target or chain `{target}` (no such target, and no user chain of that name in table {t})"
                    )));
                }
                Some(i) if i < self.n_builtin() => {
                    return Err(RuleError::new(format!("cannot jump to built-in chain `{target}`")));
                }
                Some(_) => {}
            }
            if self.reaches(target, chain) {
                return Err(RuleError::new(format!(
                    "jump from `{chain}` to `{target}` would create a loop (Too many links)"
                )));
            }
        }
        Ok(())
    }

    fn apply(&mut self, cmd: Command) -> Result<(), RuleError> {
        match cmd {
            Command::Append { rule } => {
                self.validate(rule.chain(), &rule)?;
                self.chain_mut(rule.chain())?.rules.push(rule);
            }
            Command::Insert { pos, rule } => {
                self.validate(rule.chain(), &rule)?;
                let c = self.chain_mut(rule.chain())?;
                if pos == 0 || pos > c.rules.len() + 1 {
                    return Err(RuleError::new(format!(
                        "index of insertion too big: {pos} (chain `{}` has {} rules)",
                        c.name,
                        c.rules.len()
                    )));
                }
                c.rules.insert(pos - 1, rule);
            }
            Command::Replace { pos, rule } => {
                self.validate(rule.chain(), &rule)?;
                let c = self.chain_mut(rule.chain())?;
                let Some(slot) = pos.checked_sub(1).and_then(|i| c.rules.get_mut(i)) else {
                    return Err(RuleError::new(format!("index of replacement too big: {pos}")));
                };
                *slot = rule;
            }
            Command::DeleteRule { rule } => {
                let c = self.chain_mut(rule.chain())?;
                let Some(i) = c.rules.iter().position(|r| r.to_string() == rule.to_string()) else {
                    return Err(RuleError::new(format!(
                        "bad rule (does a matching rule exist in that chain?): {rule}"
                    )));
                };
                c.rules.remove(i);
            }
            Command::DeleteNum { chain, pos } => {
                let c = self.chain_mut(&chain)?;
                if pos == 0 || pos > c.rules.len() {
                    return Err(RuleError::new(format!("index of deletion too big: {pos}")));
                }
                c.rules.remove(pos - 1);
            }
            Command::NewChain(name) => {
                if self.find(&name).is_some() {
                    return Err(RuleError::new(format!("chain `{name}` already exists")));
                }
                let at = self.chains[self.n_builtin()..]
                    .iter()
                    .position(|c| c.name > name)
                    .map_or(self.chains.len(), |i| i + self.n_builtin());
                self.chains
                    .insert(at, Chain { name, policy: None, pkts: 0, bytes: 0, counted: false, rules: Vec::new() });
            }
            Command::DeleteChain(name) => {
                let names: Vec<String> = match name {
                    Some(n) => vec![n],
                    None => self.chains[self.n_builtin()..].iter().map(|c| c.name.clone()).collect(),
                };
                for n in &names {
                    let Some(i) = self.find(n) else {
                        return Err(RuleError::new(format!("chain `{n}` does not exist")));
                    };
                    if i < self.n_builtin() {
                        return Err(RuleError::new(format!("cannot delete built-in chain `{n}`")));
                    }
                    if !self.chains[i].rules.is_empty() {
                        return Err(RuleError::new(format!("chain `{n}` is not empty (Directory not empty)")));
                    }
                    if self.referenced(n) {
                        return Err(RuleError::new(format!("chain `{n}` is still referenced (Too many links)")));
                    }
                    self.chains.remove(i);
                }
            }
            Command::Flush(name) => match name {
                Some(n) => self.chain_mut(&n)?.rules.clear(),
                None => self.chains.iter_mut().for_each(|c| c.rules.clear()),
            },
            Command::Zero(name) => {
                let zero = |c: &mut Chain| {
                    c.pkts = 0;
                    c.bytes = 0;
                    c.rules.iter_mut().for_each(|r| r.set_counters(0, 0));
                };
                match name {
                    Some(n) => zero(self.chain_mut(&n)?),
                    None => self.chains.iter_mut().for_each(zero),
                }
            }
            Command::Policy { chain, verdict } => {
                let n_builtin = self.n_builtin();
                match self.find(&chain) {
                    Some(i) if i < n_builtin => self.chains[i].policy = Some(verdict),
                    Some(_) => return Err(RuleError::new(format!("cannot set policy of user chain `{chain}`"))),
                    None => return Err(RuleError::new(format!("bad built-in chain name `{chain}`"))),
                }
            }
        }
        Ok(())
    }
}

/// Netfilter of one network namespace: the four tables and the conntrack table.
#[derive(Clone, Debug)]
pub struct Netfilter {
    tables: [TableState; 4],
    ct: Conntrack,
    /// Cached "no rule, no DROP policy": `is_inert` runs several times per packet.
    rules_inert: bool,
}

impl Default for Netfilter {
    fn default() -> Self {
        Self::new()
    }
}

impl Netfilter {
    /// Empty tables, ACCEPT policies, no connections.
    pub fn new() -> Self {
        Netfilter { tables: Table::ALL.map(TableState::new), ct: Conntrack::default(), rules_inert: true }
    }

    /// Takes over another instance's connections (rules were replaced, flows go on).
    pub fn adopt_conntrack(&mut self, old: Netfilter) {
        self.ct = old.ct;
    }

    /// One command in iptables syntax as after `iptables -t TABLE` (a leading `-t TABLE` overrides
    /// `table`): `-A CHAIN rule`, `-I CHAIN [n] rule`, `-R CHAIN n rule`, `-D CHAIN rule|n`,
    /// `-N CHAIN`, `-X [CHAIN]`, `-P CHAIN ACCEPT|DROP`, `-F [CHAIN]`, `-Z [CHAIN]`.
    pub fn exec(&mut self, table: Table, cmd: &str) -> Result<(), RuleError> {
        let (table, cmd) = rule::parse_command(cmd, table)?;
        let r = self.tables[table.idx()].apply(cmd);
        self.rules_inert = self.tables.iter().all(TableState::is_inert);
        r
    }

    /// iptables-restore input (`*table`, `:CHAIN POLICY [p:b]`, `[p:b] -A ...`, `COMMIT`, `#`
    /// comments). Like `iptables-restore -c`: each table named is flushed and replaced, counters are
    /// taken over. All or nothing: on an error (which carries the 1-based line) nothing changes.
    pub fn restore(&mut self, text: &str) -> Result<(), RuleError> {
        let r = self.restore_tables(text);
        self.rules_inert = self.tables.iter().all(TableState::is_inert);
        r
    }

    fn restore_tables(&mut self, text: &str) -> Result<(), RuleError> {
        let mut tables = self.tables.clone();
        let mut cur: Option<TableState> = None;
        let mut last = 0;
        for (i, raw) in text.lines().enumerate() {
            let ln = i + 1;
            last = ln;
            let at = |e: RuleError| RuleError { line: Some(ln), ..e };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('*') {
                if cur.is_some() {
                    return Err(at(RuleError::new(format!("COMMIT expected before `{line}`"))));
                }
                let t = Table::from_name(name.trim())
                    .ok_or_else(|| at(RuleError::new(format!("unknown table `{}`", name.trim()))))?;
                cur = Some(TableState::new(t));
                continue;
            }
            let Some(ts) = cur.as_mut() else {
                return Err(at(RuleError::new(format!("`{line}` outside of a table (no `*table` line before it)"))));
            };
            if line == "COMMIT" {
                if let Some(ts) = cur.take() {
                    let idx = ts.table.idx();
                    tables[idx] = ts;
                }
                continue;
            }
            if let Some(decl) = line.strip_prefix(':') {
                restore_chain_decl(ts, decl).map_err(at)?;
                continue;
            }
            let (counters, rest) = rule::strip_counters(line).map_err(at)?;
            let (t, cmd) = rule::parse_command(rest, ts.table).map_err(at)?;
            if t != ts.table {
                return Err(at(RuleError::new("`-t` is not allowed inside iptables-restore input")));
            }
            let target = match &cmd {
                Command::Append { rule } => Some((rule.chain().to_string(), None)),
                Command::Insert { rule, pos } => Some((rule.chain().to_string(), Some(*pos))),
                _ => None,
            };
            ts.apply(cmd).map_err(at)?;
            if let (Some((p, b)), Some((chain, pos))) = (counters, target)
                && let Some(c) = ts.find(&chain).map(|i| &mut ts.chains[i])
            {
                let i = pos.map_or(c.rules.len(), |p| p);
                if let Some(r) = i.checked_sub(1).and_then(|i| c.rules.get_mut(i)) {
                    r.set_counters(p, b);
                }
            }
        }
        if let Some(ts) = cur {
            return Err(RuleError {
                line: Some(last),
                message: format!("COMMIT expected at end of input (table {} not committed)", ts.table),
            });
        }
        self.tables = tables;
        Ok(())
    }

    /// The rule set in `iptables-save` format (`iptables-save -c` when `counters`). Tables are
    /// printed in the order mangle, raw, filter, nat, and only when they have a rule, a user chain
    /// or a non-ACCEPT policy (iptables-save prints every loaded table; here a table counts as
    /// loaded once it is used). The `# Generated by` / `# Completed on` comments are left out.
    pub fn save(&self, counters: bool) -> String {
        self.save_tables(None, counters)
    }

    /// `iptables-save [-t TABLE] [-c]`: one table, printed whether or not rules use it (the
    /// nf_tables backend makes a table it is asked for), or every table in use.
    pub fn save_tables(&self, only: Option<Table>, counters: bool) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let wanted = |t: &&TableState| match only {
            Some(table) => t.table == table,
            None => t.is_shown(),
        };
        // iptables-nft's order of the tables it prints (mangle, raw, filter, nat: recorded in
        // traces/kernel/iptables-list/), not iptables-legacy's.
        let order = [Table::Mangle, Table::Raw, Table::Filter, Table::Nat];
        for ts in order.iter().map(|t| &self.tables[t.idx()]).filter(wanted) {
            let _ = writeln!(out, "*{}", ts.table);
            for c in &ts.chains {
                match c.policy {
                    Some(p) => {
                        let (pkts, bytes) = c.shown_counters();
                        let _ = writeln!(out, ":{} {p} [{pkts}:{bytes}]", c.name);
                    }
                    None => {
                        let _ = writeln!(out, ":{} - [0:0]", c.name);
                    }
                }
            }
            for r in ts.chains.iter().flat_map(|c| c.rules.iter()) {
                if counters {
                    let (p, b) = r.counters();
                    let _ = write!(out, "[{p}:{b}] ");
                }
                let _ = writeln!(out, "{r}");
            }
            out.push_str("COMMIT\n");
        }
        out
    }

    /// `iptables -t TABLE -S [CHAIN]`: policies of built-in chains, user chains declared, then
    /// the rules, each as `iptables-save` writes it; `Err` with iptables' (nf_tables) words when
    /// the chain does not exist.
    pub fn list_rules(&self, table: Table, chain: Option<&str>) -> Result<String, String> {
        use std::fmt::Write;
        let ts = &self.tables[table.idx()];
        let chains = ts.chains_named(chain)?;
        let mut out = String::new();
        for c in &chains {
            let _ = match c.policy {
                Some(p) => writeln!(out, "-P {} {p}", c.name),
                None => writeln!(out, "-N {}", c.name),
            };
        }
        for r in chains.iter().flat_map(|c| c.rules.iter()) {
            let _ = writeln!(out, "{r}");
        }
        Ok(out)
    }

    /// `iptables -t TABLE -L [CHAIN]` with its options: each chain under its header (policy
    /// and counters, or how many rules jump to it), its rules as [`Rule`]'s listing prints
    /// them, a blank line between chains; `Err` with iptables' (nf_tables) words when the chain
    /// does not exist. With `rule` (`-L CHAIN N`), that rule's line alone, or nothing.
    pub fn list(
        &self,
        table: Table,
        chain: Option<&str>,
        rule: Option<usize>,
        f: ListFlags,
        names: &Names<'_>,
    ) -> Result<String, String> {
        use std::fmt::Write;
        let ts = &self.tables[table.idx()];
        let chains = ts.chains_named(chain)?;
        let mut out = String::new();
        if let Some(n) = rule {
            if let Some(r) = chains.first().and_then(|c| c.rules.get(n - 1)) {
                let _ = writeln!(out, "{}", r.list_line(n, f, names));
            }
            return Ok(out);
        }
        for (i, c) in chains.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = match c.policy {
                Some(p) if f.verbose => writeln!(
                    out,
                    "Chain {} (policy {p} {}packets, {}bytes)",
                    c.name,
                    rule::list_num(c.shown_counters().0, f),
                    rule::list_num(c.shown_counters().1, f)
                ),
                Some(p) => writeln!(out, "Chain {} (policy {p})", c.name),
                None => {
                    let refs =
                        ts.chains.iter().flat_map(|c| &c.rules).filter(|r| r.jump_target() == Some(&c.name)).count();
                    writeln!(out, "Chain {} ({refs} references)", c.name)
                }
            };
            let _ = writeln!(out, "{}", rule::list_header(f));
            for (n, r) in c.rules.iter().enumerate() {
                let _ = writeln!(out, "{}", r.list_line(n + 1, f, names));
            }
        }
        Ok(out)
    }

    /// The rules of one chain, in order (None when the chain does not exist).
    pub fn rules(&self, table: Table, chain: &str) -> Option<&[Rule]> {
        let ts = &self.tables[table.idx()];
        ts.find(chain).map(|i| ts.chains[i].rules.as_slice())
    }

    /// Policy packet/byte counters of a built-in chain.
    pub fn policy_counters(&self, table: Table, chain: &str) -> Option<(u64, u64)> {
        let ts = &self.tables[table.idx()];
        ts.find(chain).filter(|&i| ts.chains[i].policy.is_some()).map(|i| (ts.chains[i].pkts, ts.chains[i].bytes))
    }

    /// True when no table has a rule or a non-ACCEPT policy and no connection is tracked: the
    /// caller may skip hooks entirely.
    pub fn is_inert(&self) -> bool {
        self.rules_inert && self.ct.is_empty()
    }

    /// Lines formatted like `conntrack -L`, oldest connection first; timeouts are counted from the
    /// `now_ns` of the latest hook call.
    pub fn conntrack_entries(&self) -> Vec<String> {
        self.ct.entries()
    }

    /// Runs one hook on an IPv4 packet (header + payload). NAT rewrites the packet in place and
    /// fixes the IPv4 and L4 checksums. Packets that are not parseable IPv4 are accepted untouched.
    pub fn hook(
        &mut self,
        hook: Hook,
        pkt: &mut [u8],
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        now_ns: u64,
    ) -> HookResult {
        self.hook_stage(hook, None, pkt, meta, ctx, now_ns)
    }

    /// LOCAL_IN in two halves around IPVS, which sits between filter INPUT and nat INPUT
    /// (priority NF_IP_PRI_NAT_SRC - 2): a packet IPVS takes never meets nat INPUT, so its
    /// source NAT is still open for POSTROUTING's `-m ipvs --ipvs … -j SNAT`.
    pub fn hook_input(
        &mut self,
        stage: InputStage,
        pkt: &mut [u8],
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        now_ns: u64,
    ) -> HookResult {
        self.hook_stage(Hook::Input, Some(stage), pkt, meta, ctx, now_ns)
    }

    /// Rewrites a packet's source (`src`) or destination address and TCP/UDP port, fixing the
    /// checksums, as IPVS's NAT does (it is not a conntrack binding).
    pub fn rewrite(pkt: &mut [u8], src: bool, addr: Ipv4Addr, port: u16) {
        let t = conntrack::Tuple { src: addr, dst: addr, sport: port, dport: port, proto: 0 };
        nat::manip_ip(pkt, &t, if src { Manip::Src } else { Manip::Dst });
    }

    /// IPVS sent a new connection's first packet to `real` (`ip_vs_update_conntrack`): the
    /// reply tuple now expects the real server as its source.
    pub fn ipvs_alter_reply(&mut self, meta: &mut PacketMeta, real: (Ipv4Addr, u16)) {
        if let CtRef::New(conn) = &mut meta.ct {
            conn.set_reply_src(real);
        }
    }

    /// The conntrack reference of the TCP RST a REJECT rule sends about `rejected`
    /// (net/ipv4/netfilter/nf_reject_ipv4.c, `nf_send_reset`): `nf_ct_attach` gives the RST the
    /// rejected packet's connection, in the other direction and RELATED, so conntrack does not
    /// track it afresh and NAT translates it as a reply; `nf_ct_set_closing` then moves a
    /// confirmed TCP connection to CLOSE (10 s). An ICMP error from REJECT goes through
    /// `icmp_send`, which attaches nothing: it starts from `PacketMeta::default()`.
    pub fn reset_meta(&mut self, rejected: &PacketMeta, now_ns: u64) -> PacketMeta {
        let ct = match &rejected.ct {
            CtRef::None | CtRef::Invalid => CtRef::None,
            CtRef::New(conn) => CtRef::Attached { conn: conn.clone(), dir: Dir::Reply },
            CtRef::Attached { conn, dir } => CtRef::Attached { conn: conn.clone(), dir: dir.other() },
            CtRef::Tracked { id, dir, .. } => {
                self.ct.set_closing(*id, now_ns);
                CtRef::Tracked { id: *id, dir: dir.other(), info: CtInfo::Related }
            }
        };
        // IP4_REPLY_MARK: the RST keeps the mark only with fwmark_reflect, off by default.
        PacketMeta { mark: 0, ct, ipvs: false, frag_max: 0 }
    }

    fn hook_stage(
        &mut self,
        hook: Hook,
        stage: Option<InputStage>,
        pkt: &mut [u8],
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        now_ns: u64,
    ) -> HookResult {
        let mut res = HookResult { verdict: Verdict::Accept, notes: Vec::new(), reject: None };
        let Some(mut info) = nat::parse(pkt) else { return res };
        self.ct.advance(now_ns);
        let steps: &[Step] = match (hook, stage) {
            (Hook::Input, Some(InputStage::BeforeIpvs)) => {
                &[Step::Track, Step::Table(Table::Mangle), Step::Table(Table::Filter)]
            }
            (Hook::Input, Some(InputStage::AfterIpvs)) => &[Step::Nat(Manip::Src), Step::Confirm],
            _ => steps_of(hook),
        };
        for step in steps {
            let go_on = match *step {
                Step::Table(t) => self.run_table(t, hook, &info, meta, ctx, &mut res),
                Step::Track => {
                    // Only the first hook of a packet tracks it ("previously seen? ignore").
                    if matches!(meta.ct, CtRef::None) {
                        self.track(hook, pkt, &info, meta, now_ns, &mut res);
                    }
                    true
                }
                Step::Nat(m) => {
                    let ok = self.nat(hook, m, pkt, &info, meta, ctx, &mut res);
                    if let Some(i) = nat::parse(pkt) {
                        info = i;
                    }
                    ok
                }
                Step::Confirm => {
                    self.confirm(hook, meta, now_ns, &mut res);
                    true
                }
            };
            if !go_on {
                res.verdict = Verdict::Drop;
                break;
            }
        }
        res
    }

    /// What `-m conntrack` sees of this packet's connection, if conntrack holds one.
    fn ct_view(&self, meta: &PacketMeta) -> Option<rule::CtView> {
        let (conn, dir) = match &meta.ct {
            CtRef::None | CtRef::Invalid => return None,
            CtRef::New(conn) => (&**conn, Dir::Original),
            CtRef::Tracked { id, dir, .. } => (self.ct.get(*id)?, *dir),
            CtRef::Attached { conn, dir } => (&**conn, *dir),
        };
        Some(conn.view(matches!(dir, Dir::Reply)))
    }

    /// The conntrack state bits of `-m conntrack --ctstate` for this packet.
    fn ct_bits(&self, meta: &PacketMeta) -> u8 {
        use rule::ct_bits as b;
        match &meta.ct {
            CtRef::None | CtRef::Invalid => b::INVALID,
            CtRef::New(conn) => b::NEW | conn.nat_bits(),
            CtRef::Tracked { id, info, .. } => {
                let s = match info {
                    CtInfo::New => b::NEW,
                    CtInfo::Established => b::ESTABLISHED,
                    CtInfo::Related => b::RELATED,
                };
                s | self.ct.get(*id).map_or(0, Conn::nat_bits)
            }
            CtRef::Attached { conn, .. } => b::RELATED | conn.nat_bits(),
        }
    }

    /// Runs the built-in chain of `table` for `hook`. Returns false when the packet is dropped.
    fn run_table(
        &mut self,
        table: Table,
        hook: Hook,
        info: &PktInfo,
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        res: &mut HookResult,
    ) -> bool {
        let ts = &self.tables[table.idx()];
        let Some(ci) = ts.builtin_index(hook) else { return true };
        if ts.chains[ci].rules.is_empty() && ts.chains[ci].policy == Some(Verdict::Accept) {
            return true;
        }
        let p = EvalPkt { info, ctx, ct_bits: self.ct_bits(meta), hook, ipvs: meta.ipvs, ct: self.ct_view(meta) };
        let outcome = eval::traverse(&mut self.tables[table.idx()], ci, &p, &mut meta.mark, &mut res.notes);
        match outcome {
            Outcome::Continue | Outcome::Nat(..) => true,
            Outcome::Drop => false,
            Outcome::Reject(w) => {
                res.reject = Some(w);
                false
            }
        }
    }

    /// `nf_conntrack_in`: find or create the connection of the packet and classify it.
    fn track(
        &mut self,
        hook: Hook,
        pkt: &[u8],
        info: &PktInfo,
        meta: &mut PacketMeta,
        now_ns: u64,
        res: &mut HookResult,
    ) {
        let note = |what: NoteKind| Note { table: Table::Raw, chain: hook.chain_name(), rule: None, what };
        match self.ct.classify(pkt, info, now_ns) {
            conntrack::Classified::Invalid(why) => {
                meta.ct = CtRef::Invalid;
                res.notes.push(note(NoteKind::ConntrackInvalid { why }));
            }
            conntrack::Classified::New(conn) => meta.ct = CtRef::New(conn),
            conntrack::Classified::Tracked { id, dir, info, first_reply } => {
                meta.ct = CtRef::Tracked { id, dir, info };
                if first_reply || info == CtInfo::Related {
                    let Some(conn) = self.ct.get(id).map(Conn::describe) else { return };
                    res.notes.push(note(if first_reply {
                        NoteKind::ConntrackEstablished { conn }
                    } else {
                        NoteKind::ConntrackRelated { conn }
                    }));
                }
            }
        }
    }

    /// `nf_conntrack_confirm`: a new connection that survived to the end of POSTROUTING / INPUT
    /// enters the table.
    fn confirm(&mut self, hook: Hook, meta: &mut PacketMeta, now_ns: u64, res: &mut HookResult) {
        if !matches!(meta.ct, CtRef::New(_)) {
            return;
        }
        let CtRef::New(conn) = std::mem::take(&mut meta.ct) else { return };
        let desc = conn.describe();
        match self.ct.confirm(*conn, now_ns) {
            Some(id) => {
                meta.ct = CtRef::Tracked { id, dir: Dir::Original, info: CtInfo::New };
                res.notes.push(Note {
                    table: Table::Raw,
                    chain: hook.chain_name(),
                    rule: None,
                    what: NoteKind::ConntrackNew { conn: desc },
                });
            }
            // Lost an insertion race (same tuple confirmed meanwhile): the packet passes untracked.
            None => meta.ct = CtRef::Invalid,
        }
    }

    /// The nat hook (`nf_nat_inet_fn`) for manip type `m`: the first packet of a connection walks
    /// the nat table to choose a binding; every packet then gets the binding applied.
    #[allow(clippy::too_many_arguments)]
    fn nat(
        &mut self,
        hook: Hook,
        m: Manip,
        pkt: &mut [u8],
        info: &PktInfo,
        meta: &mut PacketMeta,
        ctx: &HookCtx<'_>,
        res: &mut HookResult,
    ) -> bool {
        let chain = hook.chain_name();
        match &meta.ct {
            CtRef::None | CtRef::Invalid => true,
            CtRef::New(conn) if !conn.nat_done(m) => {
                let ts = &self.tables[Table::Nat.idx()];
                let ci = ts.builtin_index(hook);
                let outcome = match ci {
                    Some(ci) if !(ts.chains[ci].rules.is_empty() && ts.chains[ci].policy == Some(Verdict::Accept)) => {
                        let p = EvalPkt {
                            info,
                            ctx,
                            ct_bits: self.ct_bits(meta),
                            hook,
                            ipvs: meta.ipvs,
                            ct: self.ct_view(meta),
                        };
                        eval::traverse(&mut self.tables[Table::Nat.idx()], ci, &p, &mut meta.mark, &mut res.notes)
                    }
                    _ => Outcome::Continue,
                };
                let CtRef::New(conn) = &mut meta.ct else { return true };
                match outcome {
                    Outcome::Drop => return false,
                    Outcome::Reject(w) => {
                        res.reject = Some(w);
                        return false;
                    }
                    Outcome::Continue => {}
                    Outcome::Nat(target, rule_ref) => {
                        let Some(kind) = self.ct.bind(conn, &target, hook, ctx) else {
                            // No address to masquerade/redirect to: Linux drops the packet.
                            res.notes.push(Note {
                                table: Table::Nat,
                                chain,
                                rule: Some(rule_ref.clone()),
                                what: NoteKind::Drop,
                            });
                            return false;
                        };
                        res.notes.push(Note { table: Table::Nat, chain, rule: Some(rule_ref.clone()), what: kind });
                    }
                }
                conn.set_nat_done(m);
                conn.manip(pkt, info, Dir::Original, m);
                true
            }
            CtRef::New(conn) => {
                conn.manip(pkt, info, Dir::Original, m);
                true
            }
            CtRef::Attached { conn, dir } => {
                // nf_nat_packet: the bindings the rejected packet's connection already has.
                if let Some(what) = conn.manip(pkt, info, *dir, m) {
                    res.notes.push(Note { table: Table::Nat, chain, rule: None, what });
                }
                true
            }
            CtRef::Tracked { id, dir, info: ctinfo } => {
                // Only an ICMP error has an embedded packet to translate (nf_nat_ipv4_fn); a
                // RELATED RST from REJECT is translated like any packet of its direction.
                let (id, dir) = (*id, *dir);
                let related = *ctinfo == CtInfo::Related && info.proto == nat::PROTO_ICMP;
                let Some(conn) = self.ct.get(id) else { return true };
                let what = if related {
                    conn.icmp_reply_translation(pkt, info, dir, m)
                } else {
                    conn.manip(pkt, info, dir, m)
                };
                if let Some(what) = what {
                    res.notes.push(Note { table: Table::Nat, chain, rule: None, what });
                }
                true
            }
        }
    }
}

/// One hook function, in Linux priority order.
#[derive(Clone, Copy)]
enum Step {
    Table(Table),
    Track,
    Nat(Manip),
    Confirm,
}

/// A rule line of `iptables-save -c`, `[packets:bytes] -A CHAIN …`, as its counters and the
/// rule; `None` for any other line (iptables-restore's own reading, `rule::strip_counters`).
pub fn counted_rule(line: &str) -> Option<((u64, u64), &str)> {
    match rule::strip_counters(line) {
        Ok((Some(c), rule)) => Some((c, rule)),
        _ => None,
    }
}

/// `after` (an `iptables-save -c` of freshly loaded rules, the simulator's or the kernel's)
/// with the counters `before` held for the same rule: the same table, chain policy or rule
/// text, the n-th of its kind taking the n-th's counts. A rule new in `after` keeps its zeros.
pub fn carry_counters(before: &str, after: &str) -> String {
    use std::collections::{BTreeMap, VecDeque};
    // (table and chain policy or rule, its counts) of a policy or rule line.
    let key = |table: &str, line: &str| -> Option<(String, String)> {
        if let Some(rest) = line.strip_prefix(':') {
            let (chain, counts) = rest.rsplit_once(' ')?;
            return Some((format!("{table} :{chain}"), counts.to_string()));
        }
        let ((p, b), rule) = counted_rule(line)?;
        Some((format!("{table} {rule}"), format!("[{p}:{b}]")))
    };
    let mut held: BTreeMap<String, VecDeque<String>> = BTreeMap::new();
    let mut table = String::new();
    for l in before.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t.to_string();
        } else if let Some((k, counts)) = key(&table, l) {
            held.entry(k).or_default().push_back(counts);
        }
    }
    let mut out = String::new();
    for l in after.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t.to_string();
        }
        let kept = key(&table, l).and_then(|(k, _)| held.get_mut(&k)?.pop_front());
        match (kept, l.starts_with(':')) {
            // `:CHAIN POLICY [p:b]` and `[p:b] -A …`: the counts are the policy's last word
            // and the rule's first.
            (Some(c), true) => out.push_str(&format!("{} {c}", l.rsplit_once(' ').map_or(l, |(head, _)| head))),
            (Some(c), false) => out.push_str(&format!("{c} {}", counted_rule(l).map_or(l, |(_, rule)| rule))),
            (None, _) => out.push_str(l),
        }
        out.push('\n');
    }
    out
}

/// `:NAME POLICY [p:b]` of iptables-restore.
fn restore_chain_decl(ts: &mut TableState, decl: &str) -> Result<(), RuleError> {
    let mut parts = decl.split_whitespace();
    let name = parts.next().ok_or_else(|| RuleError::new("chain declaration without a name"))?;
    let policy = parts.next().ok_or_else(|| RuleError::new(format!("chain declaration `{name}` without a policy")))?;
    let counters = match parts.next() {
        Some(c) => Some(rule::parse_counters(c)?),
        None => None,
    };
    if let Some(extra) = parts.next() {
        return Err(RuleError::new(format!("unexpected `{extra}` in chain declaration")));
    }
    let builtin = ts.table.builtin_chains().contains(&name);
    if builtin {
        let v = match policy {
            "ACCEPT" => Verdict::Accept,
            "DROP" => Verdict::Drop,
            other => return Err(RuleError::new(format!("bad policy `{other}` for chain `{name}` (ACCEPT or DROP)"))),
        };
        if let Some(i) = ts.find(name) {
            let c = &mut ts.chains[i];
            c.policy = Some(v);
            if let Some((p, b)) = counters {
                c.pkts = p;
                c.bytes = b;
                c.counted = true;
            }
        }
        Ok(())
    } else {
        if policy != "-" {
            return Err(RuleError::new(format!("user chain `{name}` cannot have policy `{policy}` (use `-`)")));
        }
        rule::check_chain_name(name)?;
        ts.apply(Command::NewChain(name.to_string()))
    }
}

/// Which half of LOCAL_IN to run (see `Netfilter::hook_input`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStage {
    BeforeIpvs,
    AfterIpvs,
}

/// The steps of each hook, in the kernel's priority order.
fn steps_of(hook: Hook) -> &'static [Step] {
    match hook {
        // nf_conntrack_in runs at priority -200, between raw (-300) and mangle (-150).
        Hook::Prerouting => &[Step::Table(Table::Raw), Step::Track, Step::Table(Table::Mangle), Step::Nat(Manip::Dst)],
        Hook::Output => &[
            Step::Table(Table::Raw),
            Step::Track,
            Step::Table(Table::Mangle),
            Step::Nat(Manip::Dst),
            Step::Table(Table::Filter),
        ],
        // SNAT-type nat hooks run after filter on INPUT; the confirm is the very last step.
        Hook::Input => {
            &[Step::Track, Step::Table(Table::Mangle), Step::Table(Table::Filter), Step::Nat(Manip::Src), Step::Confirm]
        }
        Hook::Forward => &[Step::Track, Step::Table(Table::Mangle), Step::Table(Table::Filter)],
        Hook::Postrouting => &[Step::Track, Step::Table(Table::Mangle), Step::Nat(Manip::Src), Step::Confirm],
    }
}
