//! Changing a running world: a Docker step (run, network connect, rm, a node going down)
//! turns into the difference between two kernel plans, applied here as `ip` and `iptables`
//! would apply it. Frames in flight towards a deleted device are dropped when they arrive,
//! as they are by a veth whose peer is gone.

use crate::kernel::netfilter::{Netfilter, Table};
use crate::plan::{self, Plan};
use std::hash::Hash;

use crate::kernel::qdisc::Qdisc;
use crate::kernel::{BrPort, DevId, DevKind, Kernel, Map, NsId, Nud, PlanError, Route, Set, Userland};
use crate::plan::Ipv4Net;

/// What changes between two plans: items to take away, then items to add.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanDelta {
    pub removed: Plan,
    pub added: Plan,
    /// Namespaces whose iptables rules differ: how their rule list changes.
    pub iptables: Vec<(String, RulesSplice)>,
    /// Namespaces kept whose settings (ip_forward, lo, br_netfilter) changed.
    pub ns_changed: Vec<plan::NsPlan>,
    /// Namespaces whose IPVS services differ: their new full list.
    pub ipvs: Vec<(String, Vec<plan::IpvsPlan>)>,
}

impl PlanDelta {
    pub fn is_empty(&self) -> bool {
        *self == PlanDelta::default()
    }
}

/// A namespace's new rule list as a change of its last one: from line `at`, `drop` lines go
/// and `insert` comes in their place; the lines before and after stay. A Docker step adds or
/// takes away a rule or a few, so a step's change is the size of what it does, not of the
/// host's rule list (which grows with every container): the lab's deltas, kept for the run
/// and for the kernel backend, stay linear in its steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulesSplice {
    pub at: usize,
    pub drop: usize,
    pub insert: Vec<plan::IptablesPlan>,
}

impl RulesSplice {
    /// The splice that turns `old` into `new`: their common start and end are kept.
    pub fn between<T: PartialEq>(old: &[T], new: &[T], item: impl Fn(&T) -> plan::IptablesPlan) -> RulesSplice {
        let at = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let room = old.len().min(new.len()) - at;
        let end = old.iter().rev().zip(new.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
        RulesSplice { at, drop: old.len() - at - end, insert: new[at..new.len() - end].iter().map(item).collect() }
    }

    /// `old` changed by this splice, with `insert` as `old` holds them; `None` when `old` is
    /// too short for it (it was made against another list).
    pub fn apply<T: Clone>(&self, old: &[T], insert: impl IntoIterator<Item = T>) -> Option<Vec<T>> {
        let tail = old.get(self.at.checked_add(self.drop)?..)?;
        let mut out = Vec::with_capacity(old.len() - self.drop + self.insert.len());
        out.extend_from_slice(&old[..self.at]);
        out.extend(insert);
        out.extend_from_slice(tail);
        Some(out)
    }
}

/// The items of `a` that `b` lacks, in `a`'s order. Hashing keeps a step's diff linear in
/// the plan's size: a Docker lab of a thousand containers diffs plans of thousands of items
/// at every step.
fn minus<T: Eq + Hash + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let b: Set<&T> = b.iter().collect();
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Adds to `to` the items of `from` that `pick` selects and `to` lacks.
fn again<T: Eq + Hash + Clone>(to: &mut Vec<T>, from: &[T], pick: impl Fn(&T) -> bool) {
    let mut have: Set<T> = to.iter().cloned().collect();
    for x in from.iter().filter(|x| pick(x)) {
        if have.insert(x.clone()) {
            to.push(x.clone());
        }
    }
}

/// Items grouped by namespace, each group in the plan's order.
fn by_ns<T>(items: &[T], ns: impl Fn(&T) -> &str) -> Map<&str, Vec<&T>> {
    let mut out: Map<&str, Vec<&T>> = Map::default();
    for x in items {
        out.entry(ns(x)).or_default().push(x);
    }
    out
}

/// Rules that one owner (a container) gives a namespace, kept apart so that a step that
/// changes that owner changes only them. A namespace's rules are its own list (what the plan
/// gives it directly) followed by its segments in `order`: the host's rules of a Docker daemon
/// are the daemon's chains and networks, then each container's (its address in raw
/// PREROUTING, its published ports) in the order the containers were made, then the rules a
/// student typed. That is the order `iptables-save` shows, and the order the whole plan
/// lists them in.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSegment {
    /// The namespace the rules are in.
    pub ns: String,
    /// The namespace whose compilation makes them (a container's sandbox, or `ns` itself):
    /// a step that touches `owner` replaces the segment.
    pub owner: String,
    /// Its place among the namespace's segments.
    pub order: u64,
    pub rules: Vec<plan::IptablesPlan>,
}

impl RuleSegment {
    /// `plan` with `segments` put in: after each namespace's own rules, in their order.
    pub fn flatten(plan: &mut Plan, mut segments: Vec<RuleSegment>) {
        segments.sort_by_key(|s| s.order);
        for s in segments {
            plan.iptables.extend(s.rules);
        }
    }
}

/// A plan kept by namespace: each item under the namespace it lives in (a veth under its
/// `ns` end), and a namespace's rules as its own list and its [`RuleSegment`]s. A step that
/// changes a few namespaces is diffed in what those hold ([`PlanShards::diff_part`]), so a
/// step costs what it touches, not the whole plan.
#[derive(Clone, Debug, Default)]
pub struct PlanShards {
    by_ns: Map<String, Plan>,
    /// Each namespace's segments by `order`: (owner, rules).
    segments: Map<String, std::collections::BTreeMap<u64, (String, Vec<plan::IptablesPlan>)>>,
    /// Where each owner's segments are: (namespace, order).
    owned: Map<String, Vec<(String, u64)>>,
    /// How many rules each namespace's segments hold in all.
    seg_len: Map<String, usize>,
}

impl PlanShards {
    pub fn new(plan: &Plan) -> PlanShards {
        PlanShards::with_segments(plan.clone(), Vec::new())
    }

    /// A plan whose rules are its own lists and `segments`.
    pub fn with_segments(plan: Plan, segments: Vec<RuleSegment>) -> PlanShards {
        let mut s = PlanShards::default();
        s.add(plan);
        for x in segments {
            s.add_segment(x);
        }
        s
    }

    fn add_segment(&mut self, s: RuleSegment) {
        if s.rules.is_empty() {
            return;
        }
        self.owned.entry(s.owner.clone()).or_default().push((s.ns.clone(), s.order));
        *self.seg_len.entry(s.ns.clone()).or_default() += s.rules.len();
        self.segments.entry(s.ns).or_default().insert(s.order, (s.owner, s.rules));
    }

    /// Takes away the segments of `owner`.
    fn drop_owner(&mut self, owner: &str) {
        for (ns, order) in self.owned.remove(owner).unwrap_or_default() {
            if let Some(segs) = self.segments.get_mut(&ns) {
                if let Some((_, rules)) = segs.remove(&order)
                    && let Some(n) = self.seg_len.get_mut(&ns)
                {
                    *n -= rules.len();
                }
                if segs.is_empty() {
                    self.segments.remove(&ns);
                    self.seg_len.remove(&ns);
                }
            }
        }
    }

    /// Takes away every segment in namespace `ns` (it is gone).
    fn drop_ns(&mut self, ns: &str) {
        self.seg_len.remove(ns);
        for (_, (owner, _)) in self.segments.remove(ns).unwrap_or_default() {
            if let Some(v) = self.owned.get_mut(&owner) {
                v.retain(|(n, _)| n != ns);
                if v.is_empty() {
                    self.owned.remove(&owner);
                }
            }
        }
    }
    fn add(&mut self, p: Plan) {
        fn shard<'a>(by_ns: &'a mut Map<String, Plan>, ns: &str) -> &'a mut Plan {
            if !by_ns.contains_key(ns) {
                by_ns.insert(ns.to_string(), Plan::default());
            }
            by_ns.get_mut(ns).expect("inserted above")
        }
        let s = &mut self.by_ns;
        for x in p.namespaces {
            shard(s, &x.name).namespaces.push(x);
        }
        for x in p.links {
            shard(s, x.ns()).links.push(x);
        }
        for x in p.addresses {
            shard(s, &x.ns).addresses.push(x);
        }
        for x in p.routes {
            shard(s, &x.ns).routes.push(x);
        }
        for x in p.neighbours {
            shard(s, &x.ns).neighbours.push(x);
        }
        for x in p.fdb {
            shard(s, &x.ns).fdb.push(x);
        }
        for x in p.iptables {
            shard(s, &x.ns).iptables.push(x);
        }
        for x in p.ipvs {
            shard(s, &x.ns).ipvs.push(x);
        }
        for x in p.sysctls {
            shard(s, &x.ns).sysctls.push(x);
        }
        for x in p.down {
            shard(s, &x.ns).down.push(x);
        }
        for x in p.qdiscs {
            shard(s, &x.ns).qdiscs.push(x);
        }
        for x in p.bridge_ports {
            shard(s, &x.ns).bridge_ports.push(x);
        }
    }

    /// The namespaces that hold items.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.by_ns.keys().map(String::as_str)
    }

    /// What `namespaces` hold, namespace after namespace; a namespace's segments follow its
    /// own rules.
    pub fn part(&self, namespaces: &[String]) -> Plan {
        let mut out = self.heads(namespaces);
        for n in namespaces {
            for (_, rules) in self.segments.get(n).into_iter().flat_map(|m| m.values()) {
                out.iptables.extend_from_slice(rules);
            }
        }
        out
    }

    /// What `namespaces` hold, without their segments.
    fn heads(&self, namespaces: &[String]) -> Plan {
        let mut out = Plan::default();
        for p in namespaces.iter().filter_map(|n| self.by_ns.get(n)) {
            out.namespaces.extend_from_slice(&p.namespaces);
            out.links.extend_from_slice(&p.links);
            out.addresses.extend_from_slice(&p.addresses);
            out.routes.extend_from_slice(&p.routes);
            out.neighbours.extend_from_slice(&p.neighbours);
            out.fdb.extend_from_slice(&p.fdb);
            out.iptables.extend_from_slice(&p.iptables);
            out.ipvs.extend_from_slice(&p.ipvs);
            out.sysctls.extend_from_slice(&p.sysctls);
            out.down.extend_from_slice(&p.down);
            out.qdiscs.extend_from_slice(&p.qdiscs);
            out.bridge_ports.extend_from_slice(&p.bridge_ports);
        }
        out
    }

    /// Whether namespace `ns` is in the plan.
    fn has_ns(&self, ns: &str) -> bool {
        self.by_ns.get(ns).is_some_and(|p| p.namespaces.iter().any(|n| n.name == ns))
    }

    /// The delta that turns what `namespaces` hold into `part` and `segments` (which must
    /// hold nothing elsewhere, and whose owners are among `namespaces`), and those kept in
    /// their place; the segments of owners in `namespaces` are replaced wherever they are. The
    /// same change as a diff of the whole plans when nothing outside `namespaces` changed and
    /// every device remade by the change (a veth taken down and made again) has both ends
    /// inside them; only the order of the items taken away, and how a rule list's change is
    /// cut into splices, may differ ([`PlanDelta::same_change`]). A segment's change is a
    /// splice at its place, found by counting the rules before it, so a step that changes one
    /// container's rules costs those rules, not the namespace's list.
    pub fn diff_part(&mut self, namespaces: &[String], part: Plan, segments: Vec<RuleSegment>) -> PlanDelta {
        use std::collections::BTreeMap;
        let mut delta = self.heads(namespaces).diff(&part);
        let scope: Set<&str> = namespaces.iter().map(String::as_str).collect();
        let after: Set<&str> = part.namespaces.iter().map(|n| n.name.as_str()).collect();
        let exists_after = |s: &Self, ns: &str| if scope.contains(ns) { after.contains(ns) } else { s.has_ns(ns) };
        // The segments each namespace gets, and which namespaces' segments change.
        let mut new_segs: BTreeMap<&str, BTreeMap<u64, &[plan::IptablesPlan]>> = BTreeMap::new();
        for s in &segments {
            new_segs.entry(s.ns.as_str()).or_default().insert(s.order, &s.rules);
        }
        let mut affected: Set<&str> = new_segs.keys().copied().collect();
        for n in namespaces {
            for (ns, _) in self.owned.get(n).into_iter().flatten() {
                affected.insert(ns);
            }
        }
        let mut affected: Vec<&str> = affected.into_iter().collect();
        affected.sort_unstable();
        let none = BTreeMap::new();
        for ns in affected {
            if !exists_after(self, ns) {
                continue;
            }
            let fresh = new_segs.get(ns).unwrap_or(&none);
            if !self.has_ns(ns) {
                // A new namespace: its rules are added whole, segments after its own.
                for rules in fresh.values() {
                    delta.added.iptables.extend_from_slice(rules);
                }
                continue;
            }
            let old = self.segments.get(ns);
            // Segments that change: those of owners in scope (taken away unless made again)
            // and the new ones, by order.
            let mut changed: BTreeMap<u64, &[plan::IptablesPlan]> = BTreeMap::new();
            for n in namespaces {
                for (_, k) in self.owned.get(n).into_iter().flatten().filter(|(at, _)| at == ns) {
                    changed.insert(*k, &[]);
                }
            }
            changed.extend(fresh.iter().map(|(k, r)| (*k, *r)));
            // The list's own rules come first; their change (in `delta` already) is applied
            // before these splices, so each is placed in the list as changed so far: after the
            // own rules and every segment before it, which are the segments' rules in all
            // less those from it on (still as they were). Counted from the end, as a step
            // mostly changes the newest container's.
            let head = if scope.contains(ns) {
                part.iptables.iter().filter(|r| r.ns == ns).count()
            } else {
                self.by_ns.get(ns).map_or(0, |p| p.iptables.len())
            };
            let mut total = self.seg_len.get(ns).copied().unwrap_or(0);
            for (&k, &new) in &changed {
                let from_k: usize = old.into_iter().flat_map(|m| m.range(k..)).map(|(_, (_, r))| r.len()).sum();
                let was = old.and_then(|m| m.get(&k)).map_or(&[][..], |(_, r)| r.as_slice());
                if was != new {
                    let sp = RulesSplice::between(was, new, |x| x.clone());
                    let at = head + total - from_k;
                    delta.iptables.push((ns.to_string(), RulesSplice { at: at + sp.at, ..sp }));
                }
                total = total + new.len() - was.len();
            }
        }
        for n in namespaces {
            self.by_ns.remove(n);
            self.drop_owner(n);
            if !after.contains(n.as_str()) {
                self.drop_ns(n);
            }
        }
        self.add(part);
        for s in segments {
            self.add_segment(s);
        }
        delta
    }
}

impl PlanDelta {
    /// Each namespace's rules once this delta is applied to a world built from `old`.
    pub fn rules_after(&self, old: &Plan) -> Map<String, Vec<plan::IptablesPlan>> {
        let mut m: Map<String, Vec<plan::IptablesPlan>> = Map::default();
        for r in &old.iptables {
            m.entry(r.ns.clone()).or_default().push(r.clone());
        }
        for n in &self.removed.namespaces {
            m.remove(&n.name);
        }
        for r in &self.added.iptables {
            m.entry(r.ns.clone()).or_default().push(r.clone());
        }
        for (ns, sp) in &self.iptables {
            let was = m.remove(ns).unwrap_or_default();
            // A splice made for another list leaves a list no delta of `old` would: unequal.
            let now = sp.apply(&was, sp.insert.iter().cloned()).unwrap_or_default();
            m.insert(ns.clone(), now);
        }
        m.retain(|_, v| !v.is_empty());
        m
    }

    /// Whether `self` and `other` make the same change to a world built from `old`: the same
    /// items taken away and added, and the same rules after in every namespace, however each
    /// cuts a rule list's change into splices.
    pub fn same_change(&self, other: &PlanDelta, old: &Plan) -> bool {
        let strip = |d: &PlanDelta| {
            let mut d = d.normalised();
            d.iptables.clear();
            d.added.iptables.clear();
            d
        };
        strip(self) == strip(other) && self.rules_after(old) == other.rules_after(old)
    }
}

impl PlanDelta {
    /// The delta with what it takes away in a canonical order: two deltas that make the same
    /// change compare equal (`PlanShards::diff_part` takes items away namespace by namespace,
    /// a whole diff in the plan's order).
    pub fn normalised(&self) -> PlanDelta {
        fn sort<T: std::fmt::Debug>(v: &mut [T]) {
            v.sort_by_cached_key(|x| format!("{x:?}"));
        }
        let mut d = self.clone();
        let r = &mut d.removed;
        sort(&mut r.namespaces);
        sort(&mut r.links);
        sort(&mut r.addresses);
        sort(&mut r.routes);
        sort(&mut r.neighbours);
        sort(&mut r.fdb);
        sort(&mut r.iptables);
        sort(&mut r.ipvs);
        sort(&mut r.sysctls);
        sort(&mut r.down);
        sort(&mut r.qdiscs);
        sort(&mut r.bridge_ports);
        d
    }
}

impl Plan {
    /// The delta that turns `self` into `new`. An item whose fields changed is removed and
    /// added again; items inside a removed namespace go with it.
    pub fn diff(&self, new: &Plan) -> PlanDelta {
        let old_ns: Map<&str, &plan::NsPlan> = self.namespaces.iter().map(|n| (n.name.as_str(), n)).collect();
        let new_ns: Set<&str> = new.namespaces.iter().map(|n| n.name.as_str()).collect();
        let gone = |ns: &str| old_ns.contains_key(ns) && !new_ns.contains(ns);
        let mut d = PlanDelta::default();
        d.removed.namespaces = self.namespaces.iter().filter(|n| gone(&n.name)).cloned().collect();
        d.added.namespaces = new.namespaces.iter().filter(|n| !old_ns.contains_key(n.name.as_str())).cloned().collect();
        d.ns_changed =
            new.namespaces.iter().filter(|n| old_ns.get(n.name.as_str()).is_some_and(|o| *o != *n)).cloned().collect();
        let link_ns = |l: &plan::Link| match l {
            plan::Link::Veth { ns, peer_ns, .. } => gone(ns) && gone(peer_ns),
            plan::Link::Bridge { ns, .. }
            | plan::Link::Vxlan { ns, .. }
            | plan::Link::Macvlan { ns, .. }
            | plan::Link::Vlan { ns, .. } => gone(ns),
        };
        d.removed.links = minus(&self.links, &new.links).into_iter().filter(|l| !link_ns(l)).collect();
        d.added.links = minus(&new.links, &self.links);
        d.removed.addresses = minus(&self.addresses, &new.addresses).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.addresses = minus(&new.addresses, &self.addresses);
        d.removed.routes = minus(&self.routes, &new.routes).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.routes = minus(&new.routes, &self.routes);
        d.removed.neighbours = minus(&self.neighbours, &new.neighbours).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.neighbours = minus(&new.neighbours, &self.neighbours);
        d.removed.fdb = minus(&self.fdb, &new.fdb).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.fdb = minus(&new.fdb, &self.fdb);
        d.added.sysctls = minus(&new.sysctls, &self.sysctls);
        d.removed.sysctls = minus(&self.sysctls, &new.sysctls).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.removed.down = minus(&self.down, &new.down).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.down = minus(&new.down, &self.down);
        d.removed.qdiscs = minus(&self.qdiscs, &new.qdiscs).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.qdiscs = minus(&new.qdiscs, &self.qdiscs);
        d.removed.bridge_ports =
            minus(&self.bridge_ports, &new.bridge_ports).into_iter().filter(|x| !gone(&x.ns)).collect();
        d.added.bridge_ports = minus(&new.bridge_ports, &self.bridge_ports);
        // A device deleted and made again (a veth whose peer changed, a new MTU) loses its
        // addresses, routes, neighbours and FDB entries: carry the new plan's over again.
        let mut remade: Set<(String, String)> = Set::default();
        for l in &d.removed.links {
            if let plan::Link::Veth { ns, name, peer_ns, peer, .. } = l {
                remade.insert((ns.clone(), name.clone()));
                remade.insert((peer_ns.clone(), peer.clone()));
            } else {
                remade.insert((l.ns().to_string(), l.name().to_string()));
            }
        }
        if !remade.is_empty() {
            let remade_ns: Set<&str> = remade.iter().map(|(n, _)| n.as_str()).collect();
            let hit = |ns: &str, dev: &str| remade.contains(&(ns.to_string(), dev.to_string()));
            again(&mut d.added.addresses, &new.addresses, |a| hit(&a.ns, &a.dev));
            again(&mut d.added.neighbours, &new.neighbours, |n| hit(&n.ns, &n.dev));
            again(&mut d.added.fdb, &new.fdb, |f| hit(&f.ns, &f.dev));
            again(&mut d.added.down, &new.down, |x| hit(&x.ns, &x.dev));
            again(&mut d.added.qdiscs, &new.qdiscs, |x| hit(&x.ns, &x.dev));
            again(&mut d.added.bridge_ports, &new.bridge_ports, |x| hit(&x.ns, &x.dev));
            // A route without `dev` may have been bound to the remade device: take it out and
            // put it back, so it is bound again.
            let routes = |r: &plan::RoutePlan| {
                remade_ns.contains(r.ns.as_str()) && r.dev.as_deref().is_none_or(|dv| hit(&r.ns, dv))
            };
            again(&mut d.removed.routes, &new.routes, routes);
            again(&mut d.added.routes, &new.routes, routes);
        }
        // iptables: a namespace's rules are compared as a whole, because order matters.
        let (old_rules, new_rules) = (by_ns(&self.iptables, |r| &r.ns), by_ns(&new.iptables, |r| &r.ns));
        let (old_ipvs, new_ipvs) = (by_ns(&self.ipvs, |r| &r.ns), by_ns(&new.ipvs, |r| &r.ns));
        for n in new.namespaces.iter().filter(|n| old_ns.contains_key(n.name.as_str())) {
            let ns = n.name.as_str();
            let (o, r) =
                (old_rules.get(ns).map_or(&[][..], Vec::as_slice), new_rules.get(ns).map_or(&[][..], Vec::as_slice));
            if o != r {
                d.iptables.push((n.name.clone(), RulesSplice::between(o, r, |x| (*x).clone())));
            }
        }
        d.added.iptables = new.iptables.iter().filter(|r| !old_ns.contains_key(r.ns.as_str())).cloned().collect();
        for n in new.namespaces.iter().filter(|n| old_ns.contains_key(n.name.as_str())) {
            let ns = n.name.as_str();
            if old_ipvs.get(ns) != new_ipvs.get(ns) {
                let r = new_ipvs.get(ns).map(|r| r.iter().map(|x| (*x).clone()).collect()).unwrap_or_default();
                d.ipvs.push((n.name.clone(), r));
            }
        }
        d.added.ipvs = new.ipvs.iter().filter(|r| !old_ns.contains_key(r.ns.as_str())).cloned().collect();
        d
    }
}

impl<U: Userland> Kernel<U> {
    /// Applies a delta computed by `Plan::diff`.
    pub fn apply_delta(&mut self, d: &PlanDelta) -> Result<(), PlanError> {
        let r = self.apply_delta_by(d);
        self.dst_changed();
        r
    }

    fn apply_delta_by(&mut self, d: &PlanDelta) -> Result<(), PlanError> {
        // A device whose netem is both taken away and added was changed (`tc qdisc change`,
        // or `replace` by another netem): `tc_modify_qdisc` (net/sched/sch_api.c) changes the
        // qdisc in place rather than grafting a new one, so it keeps what it holds.
        let mut changed = Vec::new();
        for a in &d.added.qdiscs {
            if d.removed.qdiscs.iter().any(|r| r.ns == a.ns && r.dev == a.dev)
                && let Some((_, dev)) = self.lookup_dev(&a.ns, &a.dev)
                && let Some(q) = self.dev_mut(dev).qdisc.take()
            {
                changed.push((a, dev, q));
            }
        }
        self.retract(&d.removed);
        for n in &d.ns_changed {
            if let Some(id) = self.ns_by_name(&n.name) {
                let lo = self.netns(id).lo;
                self.dev_mut(lo).up = n.lo_up;
                let ns = self.netns_mut(id);
                ns.ip_forward = n.ip_forward;
                ns.bridge_nf_call_iptables = n.bridge_nf_call_iptables;
            }
        }
        self.extend(&d.added)?;
        for (a, dev, mut q) in changed {
            // The same device still (its namespace was not made again by this delta).
            if self.lookup_dev(&a.ns, &a.dev).map(|(_, d)| d) == Some(dev) {
                q.change(&a.netem).map_err(|m| PlanError::new(format!("netem: {m}"), &a.netem))?;
                self.dev_mut(dev).qdisc = Some(q);
            }
        }
        for (ns, splice) in &d.iptables {
            let id = self.ns_by_name(ns).ok_or_else(|| PlanError::new(format!("no namespace `{ns}`"), ns))?;
            let mut insert = Vec::with_capacity(splice.insert.len());
            for r in &splice.insert {
                let table = Table::from_name(&r.table)
                    .ok_or_else(|| PlanError::new(format!("iptables: no table `{}`", r.table), &r.table))?;
                insert.push((table, r.rule.clone()));
            }
            let rules = &self.netns(id).rules;
            if let Some(cmds) = splice_commands(rules, splice.at, splice.drop, &insert) {
                self.splice_rules(id, splice, insert, &cmds)?;
                continue;
            }
            let new = splice.apply(rules, insert).ok_or_else(|| {
                PlanError::new(format!("iptables: the rules of `{ns}` are not those the change was made for"), ns)
            })?;
            self.set_rules(id, new)?;
        }
        for (ns, services) in &d.ipvs {
            let id = self.ns_by_name(ns).ok_or_else(|| PlanError::new(format!("no namespace `{ns}`"), ns))?;
            self.set_ipvs(id, services)?;
        }
        Ok(())
    }

    /// Brings a namespace's IPVS table to `services` with the edits `ipvsadm` would make
    /// (a departing task's destination is deleted; connections to it then fail, as in the
    /// kernel with `expire_nodest_conn=1`, which Docker sets).
    pub fn set_ipvs(&mut self, ns: NsId, services: &[plan::IpvsPlan]) -> Result<(), PlanError> {
        use crate::kernel::ipvs::{Forward, Scheduler, ServiceKey};
        let t = &mut self.netns_mut(ns).ipvs;
        t.sysctls.expire_nodest_conn = true;
        let have: Vec<ServiceKey> = t.services().map(|s| s.key).collect();
        for k in have {
            if !services.iter().any(|s| ServiceKey::Fwmark(s.fwmark) == k) {
                let _ = t.del_service(k);
            }
        }
        for s in services {
            let key = ServiceKey::Fwmark(s.fwmark);
            if t.service(key).is_none() {
                t.add_service(key, Scheduler::Rr).map_err(|e| PlanError::new(format!("ipvsadm: {e}"), &s.ns))?;
            }
            let dests: Vec<std::net::Ipv4Addr> =
                t.service(key).map(|x| x.dests.iter().map(|d| d.addr).collect()).unwrap_or_default();
            for d in &dests {
                if !s.dests.contains(d) {
                    let _ = t.del_dest(key, *d, 0);
                }
            }
            for d in &s.dests {
                if !dests.contains(d) {
                    t.add_dest(key, *d, 0, 1, Forward::Masq)
                        .map_err(|e| PlanError::new(format!("ipvsadm: {e}"), &s.ns))?;
                }
            }
        }
        Ok(())
    }

    /// Sets a namespace's rules to `rules` and keeps its connections (conntrack outlives rule
    /// changes in the kernel too). A rule set that differs from the last by rules added or
    /// removed is changed by just those rules, as dockerd changes it (`iptables -I`/`-D`, one
    /// rule each), so a step costs what it changes and the rules it leaves keep their counters;
    /// anything else is replaced whole, as `iptables-restore` would, and the rules that stay
    /// get their counts back. Debug builds check that both ways give the same rule set.
    pub fn set_iptables(&mut self, ns: NsId, rules: &[plan::IptablesPlan]) -> Result<(), PlanError> {
        let mut new = Vec::with_capacity(rules.len());
        for r in rules {
            let table = Table::from_name(&r.table)
                .ok_or_else(|| PlanError::new(format!("iptables: no table `{}`", r.table), &r.table))?;
            new.push((table, r.rule.clone()));
        }
        self.set_rules(ns, new)
    }

    /// [`Kernel::set_iptables`] with the rules as the kernel keeps them.
    fn set_rules(&mut self, ns: NsId, new: Vec<(Table, String)>) -> Result<(), PlanError> {
        let old = std::mem::take(&mut self.netns_mut(ns).rules);
        // In place: a command that fails leaves the rules half changed, and the whole set
        // replaces them below (conntrack is all that is kept, and no command touches it).
        let mut nf = std::mem::take(&mut self.netns_mut(ns).nf);
        let changed = rule_changes(&old, &new).and_then(|cmds| cmds.iter().try_for_each(|(t, c)| nf.exec(*t, c)).ok());
        let nf = match changed {
            Some(()) => {
                same_as_whole_set(&nf, &new);
                nf
            }
            None => match whole_rule_set(&new) {
                Ok(mut whole) => {
                    // The kernel's rules change one command at a time (a typed `iptables -D`
                    // among them): the rules that stay keep their counts.
                    let carried = super::netfilter::carry_counters(&nf.save(true), &whole.save(true));
                    if let Err(e) = whole.restore(&carried) {
                        debug_assert!(false, "the rules' own save restores: {e}");
                    }
                    whole.adopt_conntrack(nf);
                    whole
                }
                Err(e) => {
                    // Rules the plan checker let through and iptables refuses: a bug of the
                    // model, reported with the step; what ran of the change stays.
                    let n = self.netns_mut(ns);
                    (n.nf, n.rules) = (nf, old);
                    return Err(e);
                }
            },
        };
        let n = self.netns_mut(ns);
        n.nf = nf;
        n.rules = new;
        Ok(())
    }

    /// A splice of appended rules (`splice_commands` found its `-D`/`-I`), run on the rules
    /// and the list changed in place: a step costs the rules it adds or removes, not the
    /// namespace's whole list. A command that fails makes it the whole set, as `set_rules`.
    fn splice_rules(
        &mut self,
        ns: NsId,
        splice: &RulesSplice,
        insert: Vec<(Table, String)>,
        cmds: &[(Table, String)],
    ) -> Result<(), PlanError> {
        let n = self.netns_mut(ns);
        if cmds.iter().try_for_each(|(t, c)| n.nf.exec(*t, c)).is_ok() {
            n.rules.splice(splice.at..splice.at + splice.drop, insert);
            same_as_whole_set(&n.nf, &n.rules);
            return Ok(());
        }
        // The commands ran in part: the whole new set replaces the rules (conntrack stays).
        let new = splice.apply(&n.rules, insert).ok_or_else(|| {
            PlanError::new("iptables: the rules are not those the change was made for".to_string(), "")
        })?;
        let mut whole = whole_rule_set(&new)?;
        whole.adopt_conntrack(std::mem::take(&mut n.nf));
        (n.nf, n.rules) = (whole, new);
        Ok(())
    }

    /// Takes away what `plan` lists (items that do not exist are ignored: deleting a
    /// namespace already took its contents).
    pub fn retract(&mut self, plan: &Plan) {
        self.retract_by(plan);
        self.dst_changed();
    }

    fn retract_by(&mut self, plan: &Plan) {
        for q in &plan.qdiscs {
            if let Some((_, d)) = self.lookup_dev(&q.ns, &q.dev) {
                self.dev_mut(d).qdisc = None;
            }
        }
        for x in &plan.down {
            if let Some((_, d)) = self.lookup_dev(&x.ns, &x.dev) {
                self.link_up(d);
            }
        }
        for x in &plan.bridge_ports {
            // Back to the kernel's defaults for a port the plan no longer sets.
            if let Some((_, d)) = self.lookup_dev(&x.ns, &x.dev) {
                self.dev_mut(d).brport = BrPort::default();
            }
        }
        for s in &plan.sysctls {
            // Back to the kernel default (0) for what the plan no longer sets.
            let off = plan::SysctlPlan { value: "0".into(), ..s.clone() };
            let _ = self.set_sysctl(&off);
        }
        for f in &plan.fdb {
            let Some((ns, d)) = self.lookup_dev(&f.ns, &f.dev) else { continue };
            let master = self.dev(d).master;
            match &mut self.dev_mut(d).kind {
                DevKind::Vxlan(vx) if f.dst.is_some() => {
                    if f.mac.is_zero() {
                        vx.default_dst.retain(|x| Some(*x) != f.dst);
                    } else {
                        vx.fdb.remove(&f.mac);
                    }
                }
                _ => {
                    if let Some(br) = master
                        && let DevKind::Bridge(b) = &mut self.dev_mut(br).kind
                    {
                        b.fdb.remove(&f.mac);
                    }
                }
            }
            let _ = ns;
        }
        for n in &plan.neighbours {
            if let Some((ns, d)) = self.lookup_dev(&n.ns, &n.dev) {
                self.netns_mut(ns).neigh.remove(&(d, n.ip));
            }
        }
        for r in &plan.routes {
            let Some(ns) = self.ns_by_name(&r.ns) else { continue };
            let dst = r.dst.trunc();
            self.netns_mut(ns).routes.retain(|x| x.kernel || !(x.dst == dst && x.metric == r.metric));
        }
        for a in &plan.addresses {
            if let Some((ns, d)) = self.lookup_dev(&a.ns, &a.dev) {
                let n = self.netns_mut(ns);
                n.addrs.retain(|x| !(x.dev == d && x.addr.addr == a.addr.addr));
                let (dst, still) =
                    (a.addr.trunc(), n.addrs.iter().any(|x| x.dev == d && x.addr.trunc() == a.addr.trunc()));
                if !still {
                    n.routes.retain(|r| !(r.kernel && r.dev == d && r.dst == dst));
                }
            }
        }
        for l in &plan.links {
            let (ns, name) = match l {
                plan::Link::Veth { ns, name, .. }
                | plan::Link::Bridge { ns, name, .. }
                | plan::Link::Vxlan { ns, name, .. }
                | plan::Link::Macvlan { ns, name, .. }
                | plan::Link::Vlan { ns, name, .. } => (ns, name),
            };
            if let Some((_, d)) = self.lookup_dev(ns, name) {
                self.remove_dev(d);
            }
        }
        for n in &plan.namespaces {
            if let Some(id) = self.ns_by_name(&n.name) {
                self.remove_ns(id);
            }
        }
    }

    /// `ip link set DEV down` (`dev_close`, then the NETDEV_DOWN notifiers): the routes
    /// through it go, the kernel's and the ones added by hand, which do not come back with
    /// the device (`fib_disable_ip`); the local route of its addresses stays. Its neighbour
    /// entries go, permanent ones too (`neigh_ifdown`); a bridge port forgets what it learned
    /// (`br_stp_disable_port`), and so does the bridge port on a veth's other end, which has
    /// lost its carrier and with it its neighbour entries but the permanent ones. What its
    /// qdisc held is dropped (`dev_deactivate`).
    pub fn link_down(&mut self, d: DevId) {
        self.link_down_by(d);
        self.dst_changed();
    }

    fn link_down_by(&mut self, d: DevId) {
        if !self.dev(d).up {
            return;
        }
        self.dev_mut(d).up = false;
        if let Some(q) = self.dev_mut(d).qdisc.as_mut() {
            q.reset();
        }
        let ns = self.dev(d).ns;
        let n = self.netns_mut(ns);
        n.routes.retain(|r| r.dev != d);
        n.neigh.retain(|(dev, _), _| *dev != d);
        let mut unlearn = vec![d];
        if let DevKind::Veth { peer, .. } = self.dev(d).kind {
            unlearn.push(peer);
            // The peer's carrier goes: its entries go too, but for permanent ones
            // (`neigh_carrier_down`; the kernel does it when linkwatch runs, within a second).
            let pns = self.dev(peer).ns;
            self.netns_mut(pns).neigh.retain(|(dev, _), e| *dev != peer || e.state == Nud::Permanent);
        }
        for p in unlearn {
            if let Some(br) = self.dev(p).master
                && let DevKind::Bridge(b) = &mut self.dev_mut(br).kind
            {
                b.fdb.retain(|_, e| e.port != p || e.permanent);
            }
        }
    }

    /// `ip link set DEV up` (NETDEV_UP, `fib_add_ifaddr`): the connected route of each of its
    /// addresses comes back; routes added by hand do not.
    pub fn link_up(&mut self, d: DevId) {
        self.link_up_by(d);
        self.dst_changed();
    }

    fn link_up_by(&mut self, d: DevId) {
        if self.dev(d).up {
            return;
        }
        self.dev_mut(d).up = true;
        let ns = self.dev(d).ns;
        let addrs: Vec<Ipv4Net> = self.netns(ns).addrs.iter().filter(|a| a.dev == d).map(|a| a.addr).collect();
        for a in addrs {
            let n = self.netns_mut(ns);
            if a.len < 32 && !n.routes.iter().any(|r| r.kernel && r.dev == d && r.dst == a.trunc()) {
                n.routes.push(Route { dst: a.trunc(), via: None, dev: d, src: Some(a.addr), metric: 0, kernel: true });
            }
        }
    }

    /// `tc qdisc replace dev DEV root netem …`, or `del` with `None`. A new qdisc starts
    /// empty: what the old one held is dropped, as `qdisc_graft` destroys it.
    pub fn set_qdisc(&mut self, d: DevId, netem: Option<&str>) -> Result<(), PlanError> {
        let q = match netem {
            Some(spec) => {
                // Each device draws its own losses: seeded from the world's generator once.
                let seed = self.rng.next_u64();
                let mut q = Qdisc::new(spec, seed).map_err(|m| PlanError::new(format!("netem: {m}"), spec))?;
                self.qdiscs_made += 1;
                q.handle = 0x8000 + self.qdiscs_made;
                Some(Box::new(q))
            }
            None => None,
        };
        self.dev_mut(d).qdisc = q;
        Ok(())
    }

    fn lookup_dev(&self, ns: &str, dev: &str) -> Option<(NsId, DevId)> {
        let ns = self.ns_by_name(ns)?;
        Some((ns, self.dev_by_name(ns, dev)?))
    }

    /// `ip netns del`: every device in it goes (a veth's peer elsewhere with it), sockets close.
    pub fn remove_ns(&mut self, ns: NsId) {
        self.remove_ns_by(ns);
        self.dst_changed();
    }

    fn remove_ns_by(&mut self, ns: NsId) {
        for d in self.netns(ns).devs.clone() {
            self.remove_dev(d);
        }
        // The name stays for the records already made; lookups skip dead namespaces, so a
        // new sandbox may take it.
        if self.ns_index.get(&self.netns(ns).name) == Some(&ns) {
            let name = self.netns(ns).name.clone();
            self.ns_index.remove(&name);
        }
        let n = self.netns_mut(ns);
        n.dead = true;
        n.addrs.clear();
        n.routes.clear();
        n.neigh.clear();
        n.tcp.clear();
        n.tcp_listen.clear();
        n.tcp_listen_addr.clear();
        n.udp.clear();
        n.ping.clear();
        n.frags.clear();
        n.pmtu.clear();
    }

    /// `ip link del`: a veth takes its peer along; a bridge frees its ports; a parent takes its
    /// macvlan and VLAN children. Addresses, routes and neighbours on the device go too.
    pub fn remove_dev(&mut self, d: DevId) {
        self.remove_dev_by(d);
        self.dst_changed();
    }

    fn remove_dev_by(&mut self, d: DevId) {
        let ns = self.dev(d).ns;
        if self.dev_by_name(ns, &self.dev(d).name) != Some(d) {
            return;
        }
        let name = self.dev(d).name.clone();
        let n = self.netns_mut(ns);
        n.devs.retain(|x| *x != d);
        n.dev_index.remove(&name);
        self.dev_mut(d).up = false;
        if let Some(br) = self.dev_mut(d).master.take()
            && let DevKind::Bridge(b) = &mut self.dev_mut(br).kind
        {
            b.ports.retain(|p| *p != d);
            b.fdb.retain(|_, e| e.port != d);
        }
        let n = self.netns_mut(ns);
        n.addrs.retain(|a| a.dev != d);
        n.routes.retain(|r| r.dev != d);
        n.neigh.retain(|(dev, _), _| *dev != d);
        for u in std::mem::take(&mut self.dev_mut(d).uppers) {
            self.remove_dev(u);
        }
        match &self.dev(d).kind {
            DevKind::Veth { peer, .. } => {
                let peer = *peer;
                self.remove_dev(peer);
            }
            DevKind::Bridge(b) => {
                for p in b.ports.clone() {
                    self.dev_mut(p).master = None;
                }
            }
            DevKind::Vxlan(vx) => {
                let (u, port) = (vx.underlay_ns, vx.dstport);
                if let Some(v) = self.netns_mut(u).vxlan_socks.get_mut(&port) {
                    v.retain(|x| *x != d);
                }
            }
            DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } => {
                let p = *parent;
                self.dev_mut(p).uppers.retain(|x| *x != d);
            }
            DevKind::Loopback => {}
        }
    }
}

/// A rule set built from nothing, as `iptables-restore` of `rules` would leave it.
fn whole_rule_set(rules: &[(Table, String)]) -> Result<Netfilter, PlanError> {
    let mut nf = Netfilter::new();
    for (table, rule) in rules {
        nf.exec(*table, rule).map_err(|e| PlanError::new(format!("iptables -t {} {rule}: {e}", table.name()), rule))?;
    }
    Ok(nf)
}

/// One table's rule lines taken apart: user chains in the order declared, policies, and
/// what each chain holds once the lines have run (`-A` appends, `-I [n]` inserts; the text
/// after the chain's name, and the position when given). `None` for a line of any other
/// shape, which only a whole replacement handles.
#[derive(Default)]
struct TableLines<'a> {
    chains: Vec<&'a str>,
    policies: Vec<(&'a str, &'a str)>,
    rules: Vec<(&'a str, Vec<&'a str>)>,
}

impl<'a> TableLines<'a> {
    fn chain(&self, c: &str) -> &[&'a str] {
        self.rules.iter().find(|(x, _)| *x == c).map_or(&[], |(_, r)| r)
    }
}

fn table_lines(lines: &[(Table, String)], table: Table) -> Option<TableLines<'_>> {
    let mut t = TableLines::default();
    for (_, line) in lines.iter().filter(|(x, _)| *x == table) {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let (op, chain) = (words.next()?, words.next()?);
        match op {
            "-N" if words.next().is_none() => t.chains.push(chain),
            "-P" => t.policies.push((chain, words.next()?)),
            "-A" | "-I" => {
                let mut body = after_words(line, 2);
                let mut at = None;
                if op == "-I"
                    && let Some(n) = words.next().and_then(|w| w.parse::<usize>().ok())
                {
                    at = Some(n.checked_sub(1)?);
                    body = after_words(line, 3);
                }
                let i = match t.rules.iter().position(|(c, _)| *c == chain) {
                    Some(i) => i,
                    None => {
                        t.rules.push((chain, Vec::new()));
                        t.rules.len() - 1
                    }
                };
                let list = &mut t.rules[i].1;
                match (op, at) {
                    ("-A", _) => list.push(body),
                    (_, at) => {
                        let at = at.unwrap_or(0);
                        if at > list.len() {
                            return None;
                        }
                        list.insert(at, body);
                    }
                }
            }
            _ => return None,
        }
    }
    Some(t)
}

/// `line` after its first `n` words.
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        rest = rest.find(char::is_whitespace).map_or("", |i| rest[i..].trim_start());
    }
    rest
}

/// The commands that turn the rule set `old` into `new` rule by rule: new chains, changed
/// policies, and in each chain the rules between the part both share at its start and the
/// part both share at its end deleted and the new ones inserted at their place; chains gone
/// last. `None` when that cannot give what a whole replacement gives (lines other than
/// `-N`/`-P`/`-A`, or user chains that would end up in another order).
fn rule_changes(old: &[(Table, String)], new: &[(Table, String)]) -> Option<Vec<(Table, String)>> {
    let mut cmds = Vec::new();
    for table in Table::ALL {
        let (o, n) = (table_lines(old, table)?, table_lines(new, table)?);
        let kept: Vec<&str> = o.chains.iter().copied().filter(|c| n.chains.contains(c)).collect();
        if n.chains.get(..kept.len()) != Some(&kept[..]) {
            return None;
        }
        // A table that loses every line would still count as used (and be printed).
        if n.chains.is_empty() && n.policies.is_empty() && n.rules.is_empty() && !o.rules.is_empty() {
            return None;
        }
        for c in &n.chains[kept.len()..] {
            cmds.push((table, format!("-N {c}")));
        }
        for (c, p) in &n.policies {
            if !o.policies.contains(&(c, p)) {
                cmds.push((table, format!("-P {c} {p}")));
            }
        }
        for (c, _) in &o.policies {
            if !n.policies.iter().any(|(x, _)| x == c) {
                cmds.push((table, format!("-P {c} ACCEPT")));
            }
        }
        let mut chains: Vec<&str> = o.rules.iter().map(|(c, _)| *c).collect();
        chains.extend(n.rules.iter().map(|(c, _)| *c).filter(|c| !o.rules.iter().any(|(x, _)| x == c)));
        for c in chains {
            let (ob, nb) = (o.chain(c), n.chain(c));
            let same_start = ob.iter().zip(nb).take_while(|(a, b)| a == b).count();
            let room = ob.len().min(nb.len()) - same_start;
            let same_end = ob.iter().rev().zip(nb.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
            for _ in same_start..ob.len() - same_end {
                cmds.push((table, format!("-D {c} {}", same_start + 1)));
            }
            for (k, body) in nb[same_start..nb.len() - same_end].iter().enumerate() {
                cmds.push((table, format!("-I {c} {} {body}", same_start + 1 + k)));
            }
        }
        for c in o.chains.iter().filter(|c| !n.chains.contains(c)) {
            cmds.push((table, format!("-X {c}")));
        }
    }
    Some(cmds)
}

/// Debug builds: rules changed command by command leave what `iptables-restore` of `rules`
/// would (chain lines carry the policy's counters, which the whole set starts anew).
fn same_as_whole_set(nf: &Netfilter, rules: &[(Table, String)]) {
    if cfg!(debug_assertions)
        && let Ok(whole) = whole_rule_set(rules)
    {
        let lines = |n: &Netfilter| -> Vec<String> {
            n.save(false).lines().map(|l| l.split(" [").next().unwrap_or(l).to_string()).collect()
        };
        assert_eq!(lines(nf), lines(&whole), "rules changed in place differ from the whole set");
    }
}

/// The `iptables -D`/`-I` that splice `insert` in place of `drop` lines at `at` of `old`, when
/// every line the splice takes or puts is an appended rule (`-A CHAIN …`) and its tables hold
/// no `-I` line (so a rule's place in its chain is its place among the chain's `-A` lines);
/// `None` otherwise. Counting the lines before `at` is all it reads of the list.
fn splice_commands(
    old: &[(Table, String)],
    at: usize,
    drop: usize,
    insert: &[(Table, String)],
) -> Option<Vec<(Table, String)>> {
    fn appended(line: &str) -> Option<(&str, &str)> {
        let rest = line.trim().strip_prefix("-A ")?;
        Some(rest.split_once(' ').unwrap_or((rest, "")))
    }
    let dropped = old.get(at..at.checked_add(drop)?)?;
    let mut touched: Vec<(Table, &str)> = Vec::new();
    for (t, line) in dropped.iter().chain(insert) {
        let (chain, _) = appended(line)?;
        if !touched.contains(&(*t, chain)) {
            touched.push((*t, chain));
        }
    }
    let tables: Vec<Table> = touched.iter().map(|(t, _)| *t).collect();
    let mut before: Vec<usize> = vec![0; touched.len()];
    // The lines before `at` are as many as the namespace has rules (a Docker host: one per
    // container), and this runs at every step: a line is matched against the few chains
    // touched by comparing its start, not parsed.
    for (t, line) in &old[..at] {
        if !tables.contains(t) {
            continue;
        }
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("-A ") {
            let names = |chain: &str| {
                rest.strip_prefix(chain).is_some_and(|after| after.starts_with(' ') || after.trim_end().is_empty())
            };
            if let Some(i) = touched.iter().position(|(tt, chain)| tt == t && names(chain)) {
                before[i] += 1;
            }
        } else if line.starts_with("-I") {
            return None;
        }
    }
    if old[at..].iter().any(|(t, l)| tables.contains(t) && l.trim_start().starts_with("-I")) {
        return None;
    }
    let mut cmds = Vec::with_capacity(drop + insert.len());
    for (t, line) in dropped {
        let (chain, _) = appended(line)?;
        let i = touched.iter().position(|x| *x == (*t, chain))?;
        cmds.push((*t, format!("-D {chain} {}", before[i] + 1)));
    }
    for (t, line) in insert {
        let (chain, body) = appended(line)?;
        let i = touched.iter().position(|x| *x == (*t, chain))?;
        before[i] += 1;
        cmds.push((*t, format!("-I {chain} {} {body}", before[i])));
    }
    Some(cmds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &[&str]) -> Vec<(Table, String)> {
        t.iter().map(|l| (Table::Filter, l.to_string())).collect()
    }

    /// Rules changed one by one end as `iptables-restore` of the new set leaves them, whatever
    /// the chains are called (`A` is also a letter of `-A`) and wherever `-I` puts a rule.
    #[test]
    fn changing_rules_one_by_one_gives_the_whole_set() {
        let old = lines(&["-N A", "-A A -s 10.0.0.1/32 -j DROP", "-A INPUT -j A", "-I INPUT -p tcp -j ACCEPT"]);
        let new = lines(&[
            "-N A",
            "-N B",
            "-A A -s 10.0.0.1/32 -j DROP",
            "-A A -s 10.0.0.2/32 -j DROP",
            "-A INPUT -j A",
            "-I INPUT -p tcp -j ACCEPT",
            "-I INPUT 2 -j B",
            "-P FORWARD DROP",
        ]);
        let mut nf = whole_rule_set(&old).expect("old set");
        for (t, c) in rule_changes(&old, &new).expect("rule by rule") {
            nf.exec(t, &c).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        assert_eq!(nf.save(false), whole_rule_set(&new).expect("new set").save(false));
        // And back: rules and a chain removed, the policy reset.
        for (t, c) in rule_changes(&new, &old).expect("rule by rule") {
            nf.exec(t, &c).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        assert_eq!(nf.save(false), whole_rule_set(&old).expect("old set").save(false));
    }

    fn rule(ns: &str, r: &str) -> plan::IptablesPlan {
        plan::IptablesPlan { ns: ns.into(), table: "filter".into(), rule: r.into() }
    }

    /// A typed `iptables -D` is not an appended rule, so the set is built whole; the rules
    /// it leaves keep their counts, as the kernel's, changed one command at a time, do (the
    /// kernel backend's record of `scenarios/docker/faults.ron`: DOCKER's DNAT rule counted
    /// on after `iptables -D DOCKER-USER …`).
    #[test]
    fn rules_a_typed_delete_leaves_keep_their_counts() {
        let mut k: Kernel<()> = Kernel::new(1);
        let ns = k.add_ns("host1");
        let old = [rule("host1", "-A FORWARD -p tcp -j ACCEPT"), rule("host1", "-I FORWARD -s 10.0.0.9 -j DROP")];
        k.set_iptables(ns, &old).expect("old rules");
        k.netns_mut(ns)
            .nf
            .restore("*filter\n:FORWARD ACCEPT [9:540]\n[2:80] -A FORWARD -s 10.0.0.9/32 -j DROP\n[5:300] -A FORWARD -p tcp -j ACCEPT\nCOMMIT\n")
            .expect("counts");
        let mut new = old.to_vec();
        new.push(rule("host1", "-D FORWARD -s 10.0.0.9 -j DROP"));
        k.set_iptables(ns, &new).expect("new rules");
        let save = k.netns(ns).nf.save(true);
        assert!(save.contains(":FORWARD ACCEPT [9:540]\n"), "{save}");
        assert!(save.contains("[5:300] -A FORWARD -p tcp -j ACCEPT\n"), "{save}");
        assert!(!save.contains("10.0.0.9"), "{save}");
    }

    proptest::proptest! {
        /// Whatever two rule lists are, the splice between them turns the first into the
        /// second, and keeps only what differs: a rule added to a long list is one rule.
        #[test]
        fn a_splice_turns_one_rule_list_into_the_other(
            old in proptest::collection::vec(0u8..4, 0..12),
            new in proptest::collection::vec(0u8..4, 0..12),
        ) {
            let (old, new): (Vec<_>, Vec<_>) = (
                old.iter().map(|x| rule("h", &format!("-A INPUT -j R{x}"))).collect(),
                new.iter().map(|x| rule("h", &format!("-A INPUT -j R{x}"))).collect(),
            );
            let s = RulesSplice::between(&old, &new, Clone::clone);
            proptest::prop_assert_eq!(s.apply(&old, s.insert.iter().cloned()), Some(new.clone()));
            proptest::prop_assert!(s.insert.len() <= new.len() && s.drop <= old.len());
        }
    }

    #[test]
    fn a_rule_added_to_a_long_list_is_a_splice_of_one_rule() {
        let old: Vec<_> = (0..1000)
            .map(|i| rule("h", &format!("-A PREROUTING -d 10.0.{}.{}/32 -j DROP", i / 256, i % 256)))
            .collect();
        let mut new = old.clone();
        new.insert(3, rule("h", "-A PREROUTING -d 10.9.9.9/32 -j DROP"));
        let s = RulesSplice::between(&old, &new, Clone::clone);
        assert_eq!((s.at, s.drop, s.insert.len()), (3, 0, 1));
        // Made for another list, it says so rather than building a wrong one.
        assert_eq!(s.apply(&old[..2], s.insert.iter().cloned()), None);
    }

    proptest::proptest! {
        /// Appended rules in two chains, spliced: the `-D`/`-I` commands leave the rule set
        /// `iptables-restore` of the new list would.
        #[test]
        fn splice_commands_give_the_whole_set(
            old in proptest::collection::vec((0u8..2, 0u8..4), 0..10),
            new in proptest::collection::vec((0u8..2, 0u8..4), 0..10),
        ) {
            let line = |(c, x): &(u8, u8)| (Table::Filter, format!("-A {} -s 10.0.0.{x}/32 -j DROP", ["INPUT", "FORWARD"][*c as usize]));
            let (old, new): (Vec<_>, Vec<_>) = (old.iter().map(line).collect(), new.iter().map(line).collect());
            let sp = RulesSplice::between(&old, &new, |(_, r)| plan::IptablesPlan { ns: "n".into(), table: "filter".into(), rule: r.clone() });
            let insert: Vec<(Table, String)> = sp.insert.iter().map(|r| (Table::Filter, r.rule.clone())).collect();
            let cmds = splice_commands(&old, sp.at, sp.drop, &insert).expect("appended rules only");
            let mut nf = whole_rule_set(&old).expect("old set");
            for (t, c) in &cmds {
                nf.exec(*t, c).unwrap_or_else(|e| panic!("{c}: {e}"));
            }
            proptest::prop_assert_eq!(nf.save(false), whole_rule_set(&new).expect("new set").save(false));
        }
    }
}
