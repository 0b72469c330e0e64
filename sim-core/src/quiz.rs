//! Questions the GUI asks before it shows what happens next (challenge mode): an
//! instructor's multiple choice, or one the simulator sets and answers itself from the run's
//! records, "where does this frame go next?" and "which rule decides?".
//!
//! The simulator's questions are read off the trace: a frame that leaves a device arrives at
//! the other end of its link in an event caused by the sending one (`Record::cause`); what
//! that event sent, delivered or dropped is the answer. Wrong choices are other devices of
//! the same namespaces and other rules of the same tables, picked by the event's number so
//! that a lab asks the same question every time.

use serde::Serialize;

use crate::World;
use crate::kernel::DevKind;
use crate::kernel::trace::{Dir, Record, Why};
use crate::lesson::{Ask, Quiz};

/// Choices a question offers at most.
const CHOICES: usize = 4;

/// A question as the student sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    pub text: String,
    pub choices: Vec<String>,
    /// Index of the right choice in `choices`.
    pub answer: usize,
    /// Said after the student has answered.
    pub explain: String,
}

/// What the student answered to one quiz item (kept in the GUI's JSON report).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answered {
    pub name: String,
    pub points: u32,
    pub question: String,
    pub chosen: String,
    pub right_answer: String,
    pub right: bool,
}

impl Question {
    pub fn answer(&self, quiz: &Quiz, chosen: usize) -> Answered {
        Answered {
            name: quiz.name.clone(),
            points: quiz.points,
            question: self.text.clone(),
            chosen: self.choices.get(chosen).cloned().unwrap_or_default(),
            right_answer: self.choices.get(self.answer).cloned().unwrap_or_default(),
            right: chosen == self.answer,
        }
    }
}

/// The question `quiz` asks at record `at` of `recs` (the frame that matched its `frame`):
/// `None` when the simulator has no answer to it there (the frame went nowhere it recorded).
pub fn question(quiz: &Quiz, w: &World, recs: &[Record], at: Option<usize>) -> Option<Question> {
    match &quiz.ask {
        Ask::Choice { question, choices, answer, explain } => Some(Question {
            text: question.clone(),
            choices: choices.clone(),
            answer: answer.saturating_sub(1),
            explain: explain.clone().unwrap_or_default(),
        }),
        Ask::NextHop => next_hop(w, recs, at?),
        Ask::Rule => deciding_rule(w, recs, at?),
    }
}

/// Where the frame of `recs[i]` (a frame leaving a device) goes next: out of which device
/// at the other end of its link, or delivered there (to a socket or the stack), or dropped.
pub fn next_hop(w: &World, recs: &[Record], i: usize) -> Option<Question> {
    let r = recs.get(i).filter(|r| r.dir == Dir::Tx)?;
    let dev = r.dev?;
    let text = format!(
        "{} leaves {}. Where does it go next?",
        crate::wire::pretty::summary(r.frame.as_deref()?),
        w.dev_path(dev)
    );
    // A bridge, VXLAN, macvlan or VLAN device hands the frame on in the same event: to its
    // ports, its underlay, its parent.
    let lower = |x: &Record| {
        let Some(d) = x.dev.filter(|d| *d != dev) else { return false };
        match &w.dev(dev).kind {
            DevKind::Bridge(_) => w.dev(d).master == Some(dev),
            DevKind::Macvlan { parent, .. } | DevKind::Vlan { parent, .. } => d == *parent,
            DevKind::Vxlan(_) => true,
            _ => false,
        }
    };
    // The same frame: as sent (a bridge), inside another (VXLAN), or with a tag (VLAN); an
    // event may send other frames too (packets queued behind one ARP resolution).
    let ours = |x: &Record| {
        let (Some(a), Some(b)) = (r.frame.as_deref(), x.frame.as_deref()) else { return false };
        let untagged = || b.len() == a.len() + 4 && b[..12] == a[..12] && b[16..] == a[12..];
        a == b || b.windows(a.len()).any(|s| s == a) || untagged()
    };
    let handed: Vec<&Record> = recs[i + 1..]
        .iter()
        .take_while(|x| x.event == r.event)
        .filter(|x| x.dir == Dir::Tx && lower(x) && ours(x))
        .collect();
    if !handed.is_empty() {
        let outs: Vec<String> = handed.iter().filter_map(|x| Some(w.dev_path(x.dev?))).collect();
        let right = match outs.as_slice() {
            [one] => format!("out of {one}"),
            many => format!("out of {} (flooded)", many.join(", ")),
        };
        let explain = handed[0].why.iter().map(|y| y.show(w).to_string()).collect::<Vec<_>>().join("; ");
        let ns = w.dev(dev).ns;
        let mut others: Vec<String> = w
            .devs
            .iter()
            .filter(|d| d.ns == ns && d.name != "lo" && d.id != dev)
            .map(|d| format!("out of {}", w.dev_path(d.id)))
            .collect();
        others.push(format!("delivered to {}", w.netns(ns).name));
        others.push(format!("dropped in {}", w.netns(ns).name));
        return Some(shuffle(text, right, others, explain, r.event.0));
    }
    let peer = match &w.dev(dev).kind {
        DevKind::Veth { peer, .. } => *peer,
        _ => return None,
    };
    // The arrival at the peer: an Rx there, in an event this one caused.
    let rx = recs.iter().position(|x| x.cause == Some(r.event) && x.dir == Dir::Rx && x.dev == Some(peer))?;
    let arrival = recs[rx].event;
    let after: Vec<&Record> = recs[rx..].iter().filter(|x| x.event == arrival).collect();
    // Forwarded, unless delivered here first (a reply the stack then sends is a new
    // packet); a bridge's drop of its own stack's copy does not end a flooded frame.
    let first = after.iter().position(|x| matches!(x.dir, Dir::Tx | Dir::Deliver));
    let then = match first {
        Some(k) => after[k],
        None => *after.iter().find(|x| x.dir == Dir::Drop)?,
    };
    let txs: Vec<String> = match then.dir {
        Dir::Tx => after[first.unwrap_or(0)..]
            .iter()
            .take_while(|x| x.dir != Dir::Deliver)
            .filter(|x| x.dir == Dir::Tx)
            .filter_map(|x| Some(w.dev_path(x.dev?)))
            .collect(),
        _ => Vec::new(),
    };
    let right = match then.dir {
        Dir::Tx if txs.len() > 1 => format!("out of {} (flooded)", txs.join(", ")),
        Dir::Tx => format!("out of {}", txs.first()?),
        Dir::Deliver => format!("delivered to {}", w.netns(then.ns).name),
        _ => format!("dropped in {}", w.netns(then.ns).name),
    };
    let explain = then.why.iter().map(|y| y.show(w).to_string()).collect::<Vec<_>>().join("; ");
    // Wrong choices: the other ways out of the namespaces the frame passes.
    let mut others: Vec<String> = Vec::new();
    for ns in [w.dev(peer).ns, then.ns] {
        for d in w.devs.iter().filter(|d| d.ns == ns && d.id != peer && d.name != "lo") {
            others.push(format!("out of {}", w.dev_path(d.id)));
        }
        others.push(format!("delivered to {}", w.netns(ns).name));
        others.push(format!("dropped in {}", w.netns(ns).name));
    }
    Some(shuffle(text, right, others, explain, r.event.0))
}

/// Which iptables rule matched the packet of `recs[i]` first, among the rules of that table
/// in its namespace (`iptables-save`).
pub fn deciding_rule(w: &World, recs: &[Record], i: usize) -> Option<Question> {
    let r = recs.get(i)?;
    // The first reason that quotes a rule (conntrack's notes and policies quote none).
    let (ns, note, rule) = r.why.iter().find_map(|y| match y {
        Why::Netfilter { ns, note } => note.rule.as_ref().map(|rule| (*ns, note, rule.text.to_string())),
        _ => None,
    })?;
    let (table, place, verdict) =
        (note.table.name(), format!("{}/{}", note.table.name(), note.chain), note.what.to_string());
    let saved = w.netns(ns).nf.save(false);
    let header = format!("*{table}");
    let others: Vec<String> = saved
        .lines()
        .skip_while(|l| *l != header)
        .take_while(|l| *l != "COMMIT")
        .filter(|l| l.starts_with("-A "))
        .map(str::to_string)
        .collect();
    let text = format!(
        "{} in {}: which rule of {place} matches it?",
        r.frame.as_deref().map(crate::wire::pretty::summary).unwrap_or_default(),
        w.netns(ns).name
    );
    let explain = format!("{place}: {rule} → {verdict}");
    Some(shuffle(text, rule, others, explain, r.event.0))
}

/// The right answer among up to three others, in an order fixed by `seed`.
fn shuffle(text: String, right: String, others: Vec<String>, explain: String, seed: u64) -> Question {
    let mut wrong: Vec<String> = Vec::new();
    for o in others {
        if o != right && !wrong.contains(&o) {
            wrong.push(o);
        }
    }
    // A fixed stride through the candidates, so that the wrong choices are not always the
    // first devices of the namespace.
    let n = wrong.len();
    let mut picked: Vec<String> = Vec::new();
    if n > 0 {
        let stride = [3, 5, 7].into_iter().find(|s| !n.is_multiple_of(*s)).unwrap_or(1);
        let mut k = seed as usize % n;
        while picked.len() < (CHOICES - 1).min(n) {
            if !picked.contains(&wrong[k]) {
                picked.push(wrong[k].clone());
            }
            k = (k + stride) % n;
        }
    }
    let answer = seed as usize % (picked.len() + 1);
    picked.insert(answer, right);
    Question { text, choices: picked, answer, explain }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Loaded;
    use crate::wire::pretty;

    fn lab(path: &str) -> crate::Sim {
        let p = format!("{}/../scenarios/{path}", env!("CARGO_MANIFEST_DIR"));
        let l = Loaded::from_file(std::path::Path::new(&p)).unwrap_or_else(|e| panic!("{e}"));
        let mut sim = l.build(None).unwrap_or_else(|e| panic!("{e}"));
        sim.run_until(crate::Until::Idle);
        sim
    }

    /// The lab's plan puts ns2's peer, veth2, on br0: an echo request from ns1 goes out there.
    #[test]
    fn next_hop_follows_the_frame_across_the_bridge() {
        let sim = lab("linux/bridge-two-namespaces.ron");
        let recs = sim.records();
        let w = &sim.world;
        let i = recs
            .iter()
            .position(|r| {
                r.dir == Dir::Tx
                    && r.dev.is_some_and(|d| w.dev_path(d) == "ns1/eth0")
                    && r.frame.as_deref().is_some_and(|f| pretty::summary(f).contains("echo request"))
            })
            .expect("an echo request leaves ns1");
        let q = next_hop(w, recs, i).expect("a question");
        assert_eq!(q.choices[q.answer], "out of host/veth2", "{q:#?}");
        assert!(q.text.contains("leaves ns1/eth0"), "{}", q.text);
        assert!(q.explain.contains("br0: fdb"), "the bridge's reason: {}", q.explain);
        assert!(q.choices.len() >= 3, "{q:#?}");
        // The ARP request is flooded: veth2 is the one port but the ingress.
        let arp = recs
            .iter()
            .position(|r| r.dir == Dir::Tx && r.dev.is_some_and(|d| w.dev_path(d) == "ns1/eth0"))
            .expect("arp");
        let q = next_hop(w, recs, arp).expect("a question");
        assert_eq!(q.choices[q.answer], "out of host/veth2");
        // A frame arriving at its destination goes up to a socket there.
        let reply_leg = recs
            .iter()
            .position(|r| {
                r.dir == Dir::Tx
                    && r.dev.is_some_and(|d| w.dev_path(d) == "host/veth2")
                    && r.frame.as_deref().is_some_and(|f| pretty::summary(f).contains("echo request"))
            })
            .expect("the request out of veth2");
        let q = next_hop(w, recs, reply_leg).expect("a question");
        assert_eq!(q.choices[q.answer], "delivered to ns2", "{q:#?}");
    }

    /// The published port's DNAT decides the first packet to it: the rule docker writes.
    #[test]
    fn the_deciding_rule_is_the_one_the_trace_names() {
        let sim = lab("docker/published-ports.ron");
        let recs = sim.records();
        let i = recs
            .iter()
            .position(|r| r.why.iter().any(|y| matches!(y, Why::Netfilter { note: n, .. } if matches!(n.what, crate::kernel::netfilter::NoteKind::Dnat { .. }))))
            .expect("a DNATed packet");
        let q = deciding_rule(&sim.world, recs, i).expect("a question");
        assert_eq!(
            q.choices[q.answer],
            "-A DOCKER ! -i br-aa0f351bdc86 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80",
            "{q:#?}"
        );
        assert!(q.text.contains("which rule of nat/PREROUTING"), "{}", q.text);
        // The wrong choices are other rules of host1's nat table, as iptables-save prints them.
        let nat = sim.world.netns(sim.world.ns_by_name("host1").expect("host1")).nf.save(false);
        assert_eq!(q.choices.len(), 4, "{q:#?}");
        for c in &q.choices {
            assert!(nat.lines().any(|l| l == c), "{c} is a rule of host1");
        }
    }

    use super::*;

    #[test]
    fn the_right_answer_is_among_distinct_choices() {
        for seed in 0..20 {
            let q = shuffle(
                "q".into(),
                "right".into(),
                vec!["a".into(), "b".into(), "right".into(), "c".into(), "d".into(), "a".into()],
                String::new(),
                seed,
            );
            assert_eq!(q.choices.len(), 4);
            assert_eq!(q.choices[q.answer], "right");
            let mut sorted = q.choices.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 4, "{:?}", q.choices);
        }
        let alone = shuffle("q".into(), "right".into(), Vec::new(), String::new(), 3);
        assert_eq!(alone.choices, ["right"]);
    }
}
