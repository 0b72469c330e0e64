//! Challenge mode's model: the lab's quiz (`quiz: [...]`), each item placed at the moment it
//! is asked, with its question and the student's answer.
//!
//! The moments and the simulator's own questions ("where does this frame go next?", "which
//! rule decides?") are read off a complete run of the lab made when it loads, as the
//! checklist's grading is: a question about what happens after a frame needs the events that
//! follow it, which the student's run has not lived yet. The simulator is deterministic, so
//! that run and the student's are the same history, event for event; a command the student
//! types changes it, and the session prepares the quiz again on the new history.

use sim_core::grade::record_matches;
use sim_core::lesson::{Ask, FrameFilter, Quiz};
use sim_core::quiz::{self, Answered, Question};
use sim_core::sim::{EventKind, Sim, StepOutcome};

/// One quiz item as the session asks it.
#[derive(Clone, Debug)]
pub struct Item {
    pub quiz: Quiz,
    /// Asked with this many events run, before the next one: None when it is never asked.
    pub at: Option<u64>,
    /// None when it is never asked.
    pub question: Option<Question>,
    /// Why it is never asked, for the pane.
    pub never: Option<String>,
    /// The choice made (index into the question's choices) and its score.
    pub answered: Option<(usize, Answered)>,
}

impl Item {
    /// When the item is asked, as the pane says it.
    pub fn when(&self) -> String {
        match (&self.quiz.frame, self.quiz.at_step) {
            (Some(f), _) => format!("asked when {} leaves {}", describe(f), f.on),
            (None, Some(k)) => format!("asked before step {k} runs"),
            (None, None) => "never asked: the item gives neither `at_step` nor `frame`".into(),
        }
    }

    /// Points it scored: its points if answered right, else 0.
    pub fn scored(&self) -> u32 {
        match &self.answered {
            Some((_, a)) if a.right => a.points,
            _ => 0,
        }
    }
}

/// The lab's quiz as challenge mode asks it.
#[derive(Clone, Debug, Default)]
pub struct Challenge {
    /// Stepping and playing stop before each unanswered item's moment.
    pub on: bool,
    pub items: Vec<Item>,
    /// Why the quiz could not be prepared (a panic of the simulator on the way).
    pub error: Option<String>,
}

impl Challenge {
    /// The items of `quizzes` placed on `sim`, a complete run of the lab (traced), whose
    /// events ran in the order of `outcomes`.
    pub fn from_run(quizzes: &[Quiz], sim: &Sim, outcomes: &[StepOutcome]) -> Challenge {
        let items = quizzes.iter().map(|q| place(q, sim, outcomes)).collect();
        Challenge { on: !quizzes.is_empty(), items, error: None }
    }

    /// Every item unasked, with why: the run that places them failed.
    pub fn failed(quizzes: &[Quiz], why: String) -> Challenge {
        let items = quizzes
            .iter()
            .map(|q| Item {
                quiz: q.clone(),
                at: None,
                question: None,
                never: Some("never asked: the quiz could not be prepared".into()),
                answered: None,
            })
            .collect();
        Challenge { on: !quizzes.is_empty(), items, error: Some(why) }
    }

    /// The item waiting for an answer with `position` events run: the first unanswered one
    /// asked there, in the file's order.
    pub fn due(&self, position: u64) -> Option<usize> {
        self.waiting().find(|(_, at)| *at == position).map(|(i, _)| i)
    }

    /// The first moment at or after `position` where going forward stops for an answer.
    pub fn next_stop(&self, position: u64) -> Option<u64> {
        self.waiting().map(|(_, at)| at).filter(|&at| at >= position).min()
    }

    /// Items that stop the run until answered, with their moments, in the file's order.
    fn waiting(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let on = self.on;
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| on && it.question.is_some() && it.answered.is_none())
            .filter_map(|(i, it)| Some((i, it.at?)))
    }

    /// Scores choice `chosen` of item `i`; an item is answered once, so a second answer
    /// changes nothing.
    pub fn answer(&mut self, i: usize, chosen: usize) -> Option<&Answered> {
        let it = self.items.get_mut(i)?;
        if it.answered.is_none() {
            let q = it.question.as_ref()?;
            if chosen >= q.choices.len() {
                return None;
            }
            it.answered = Some((chosen, q.answer(&it.quiz, chosen)));
        }
        it.answered.as_ref().map(|(_, a)| a)
    }

    /// Points scored, of the points of the items that can be asked.
    pub fn score(&self) -> (u32, u32) {
        let scored = self.items.iter().map(Item::scored).sum();
        let total = self.items.iter().filter(|it| it.question.is_some()).map(|it| it.quiz.points).sum();
        (scored, total)
    }

    /// The answers given so far, in the file's order.
    pub fn answers(&self) -> Vec<&Answered> {
        self.items.iter().filter_map(|it| it.answered.as_ref().map(|(_, a)| a)).collect()
    }

    /// Keeps what was answered in `old` (the quiz before a typed command changed the run,
    /// or before the file was reloaded): an item answered is not asked again, and keeps the
    /// question it was asked.
    pub fn keep_answers(&mut self, old: &Challenge) {
        self.on = old.on;
        for it in &mut self.items {
            let Some(was) = old.items.iter().find(|o| o.quiz == it.quiz && o.answered.is_some()) else { continue };
            it.answered = was.answered.clone();
            it.question = was.question.clone();
            it.never = None;
        }
    }
}

/// Where and what `q` asks in the complete run `sim`.
fn place(q: &Quiz, sim: &Sim, outcomes: &[StepOutcome]) -> Item {
    let never = |why: String| Item { quiz: q.clone(), at: None, question: None, never: Some(why), answered: None };
    let recs = sim.records();
    let (at, record) = match (&q.frame, q.at_step) {
        (Some(f), _) => {
            let Some(i) = recs.iter().position(|r| record_matches(f, &sim.world, r)) else {
                return never(format!("never asked: no frame matching {} leaves {} in this run", describe(f), f.on));
            };
            let event = recs[i].event;
            let Some(at) = outcomes.iter().position(|o| o.id == event) else {
                return never(format!("never asked: the event of the frame (#{}) is not in the run", event.0));
            };
            (at, Some(i))
        }
        (None, Some(k)) => {
            // Steps count from 1 in the file; the simulator's from 0.
            let step = k.checked_sub(1).and_then(|s| u32::try_from(s).ok());
            let Some(at) = step.and_then(|s| outcomes.iter().position(|o| o.what == EventKind::Step(s))) else {
                return never(format!("never asked: step {k} does not run in this lab"));
            };
            (at, None)
        }
        (None, None) => return never("never asked: the item gives neither `at_step` nor `frame`".into()),
    };
    let Some(question) = quiz::question(q, &sim.world, recs, record) else {
        let why = match q.ask {
            Ask::NextHop => "the simulator cannot tell where that frame goes next",
            Ask::Rule => "no iptables rule decides that frame",
            Ask::Choice { .. } => "it has no question",
        };
        return never(format!("never asked: {why}"));
    };
    // A file the loader let through with an answer outside its choices would score every
    // answer wrong: better not asked.
    if question.choices.len() < 2 || question.answer >= question.choices.len() {
        return never("never asked: its answer is not one of its choices".into());
    }
    Item { quiz: q.clone(), at: Some(at as u64), question: Some(question), never: None, answered: None }
}

/// A frame filter as the pane says it: `a frame (tcp, dport 8001)`.
pub fn describe(f: &FrameFilter) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = &f.proto {
        parts.push(p.clone());
    }
    if let Some(a) = f.src {
        parts.push(format!("src {a}"));
    }
    if let Some(a) = f.dst {
        parts.push(format!("dst {a}"));
    }
    if let Some(p) = f.sport {
        parts.push(format!("sport {p}"));
    }
    if let Some(p) = f.dport {
        parts.push(format!("dport {p}"));
    }
    if let Some(v) = f.vni {
        parts.push(format!("vni {v}"));
    }
    if let Some(n) = f.len {
        parts.push(format!("{n} bytes of IPv4"));
    }
    if let Some(c) = &f.contains {
        parts.push(format!("containing \"{c}\""));
    }
    if parts.is_empty() { "a frame".into() } else { format!("a frame ({})", parts.join(", ")) }
}
