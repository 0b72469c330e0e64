//! Chain traversal (`ipt_do_table`): rules in order, jumps with a return stack, policies.

use super::nat::PktInfo;
use super::rule::{NatTarget, RejectWith, Target};
use super::{Hook, HookCtx, Note, NoteKind, RuleRef, TableState, Verdict};

/// What the rules look at besides the packet bytes.
pub(super) struct EvalPkt<'a, 'c> {
    pub info: &'a PktInfo,
    pub ctx: &'a HookCtx<'c>,
    /// `rule::ct_bits` of the packet.
    pub ct_bits: u8,
    pub hook: Hook,
    /// Sent by IPVS (`-m ipvs --ipvs`).
    pub ipvs: bool,
    /// The packet's connection, for `-m conntrack`'s tuple and direction options.
    pub ct: Option<super::rule::CtView>,
}

/// The table's verdict.
#[derive(Debug)]
pub(super) enum Outcome {
    /// ACCEPT (by a rule or the policy): go on with the next table.
    Continue,
    Drop,
    Reject(RejectWith),
    /// A NAT target matched (nat table, first packet): the caller sets up the binding. Carries the
    /// rule's text for the note.
    Nat(NatTarget, RuleRef),
}

/// Jumps nest at most this deep (iptables refuses loops, so only absurd rule sets get here; the
/// packet is then dropped, as the kernel does when its jump stack overflows).
const MAX_DEPTH: usize = 32;

/// Walks the rules starting at built-in chain `start`. Allocation-free unless a note is recorded.
pub(super) fn traverse(
    ts: &mut TableState,
    start: usize,
    p: &EvalPkt<'_, '_>,
    mark: &mut u32,
    notes: &mut Vec<Note>,
) -> Outcome {
    let table = ts.table;
    let note = |rule: Option<RuleRef>, what: NoteKind| Note { table, chain: p.hook.chain_name(), rule, what };
    let len = u64::from(p.info.total_len);
    let mut stack = [(0usize, 0usize); MAX_DEPTH];
    let mut depth = 0;
    let (mut ci, mut ri) = (start, 0);
    loop {
        let mut ret = true;
        if let Some(rule) = ts.chains[ci].rules.get_mut(ri) {
            ri += 1;
            // Matches may keep state (`-m statistic` counts the packets that reach it).
            if !rule.matches(p, *mark) {
                continue;
            }
            rule.count(len);
            let rule = &ts.chains[ci].rules[ri - 1];
            ret = false;
            match rule.target() {
                Target::None => {}
                Target::Accept => {
                    notes.push(note(Some(RuleRef { text: rule.shared_text(), index: ri as u32 }), NoteKind::Accept));
                    return Outcome::Continue;
                }
                Target::Drop => {
                    notes.push(note(Some(RuleRef { text: rule.shared_text(), index: ri as u32 }), NoteKind::Drop));
                    return Outcome::Drop;
                }
                Target::Reject(w) => {
                    notes
                        .push(note(Some(RuleRef { text: rule.shared_text(), index: ri as u32 }), NoteKind::Reject(*w)));
                    return Outcome::Reject(*w);
                }
                Target::Return => ret = true,
                Target::Jump(name) | Target::Goto(name) => {
                    let Some(t) = ts.find(name) else { continue };
                    if matches!(rule.target(), Target::Jump(_)) {
                        if depth == MAX_DEPTH {
                            notes.push(note(
                                Some(RuleRef { text: rule.shared_text(), index: ri as u32 }),
                                NoteKind::Drop,
                            ));
                            return Outcome::Drop;
                        }
                        stack[depth] = (ci, ri);
                        depth += 1;
                    }
                    // -g: no return point, so the end of the target chain returns to our caller.
                    (ci, ri) = (t, 0);
                }
                Target::Mark { value, mask } => {
                    *mark = (*mark & !mask.unwrap_or(u32::MAX)) ^ value;
                    notes.push(note(
                        Some(RuleRef { text: rule.shared_text(), index: ri as u32 }),
                        NoteKind::Mark(*mark),
                    ));
                }
                Target::Log { prefix, .. } => {
                    let prefix = prefix.clone().unwrap_or_default();
                    notes.push(note(
                        Some(RuleRef { text: rule.shared_text(), index: ri as u32 }),
                        NoteKind::Log { prefix },
                    ));
                }
                Target::Nat(n) => {
                    // In a user chain reached from a hook the target is not valid in, it does
                    // nothing (the kernel would have refused the rule set).
                    if n.valid_at(p.hook) {
                        return Outcome::Nat(n.clone(), RuleRef { text: rule.shared_text(), index: ri as u32 });
                    }
                }
            }
        }
        if ret {
            if depth == 0 {
                // End of the built-in chain (or of a chain reached from it by -g): the policy.
                let c = &mut ts.chains[start];
                c.pkts += 1;
                c.bytes += len;
                if c.policy == Some(Verdict::Drop) {
                    notes.push(note(None, NoteKind::Policy(Verdict::Drop)));
                    return Outcome::Drop;
                }
                return Outcome::Continue;
            }
            depth -= 1;
            (ci, ri) = stack[depth];
        }
    }
}
