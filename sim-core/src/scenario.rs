//! Scenario files (RON): a kernel plan plus timed traffic, as instructors write them.
//!
//! Errors never panic: a RON syntax or type error, an unknown name, an address on a missing
//! device, a value the kernel would refuse, a step the daemon would refuse: each is reported
//! at the value it is about (found through `spans::SpanIndex`), with file:line:col, the line
//! (through miette) and a hint, and a file with several errors gets all of them in one
//! `ScenarioError` (the first, with the others as related diagnostics).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::{Deserialize, Serialize};

use crate::World;
use crate::director::{Director, HostSpec, LAN_BRIDGE, LAN_NS, Step};
pub use crate::docker::era::{EngineSpec, Era};
use crate::engine::SimTime;
use crate::plan::{Link, Plan};
use crate::sim::Sim;
use crate::spans::SpanIndex;
use crate::userland::apps::Traffic;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the run's only RNG (MACs, ports, ISNs, ping ids); `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// Stop here; by default the run goes until no event is left.
    #[serde(default)]
    pub until: Option<SimTime>,
    /// Interfaces to capture, as `namespace/interface`; by default all.
    #[serde(default)]
    pub capture: Option<Vec<String>>,
    /// Namespaces, links and rules written out by hand (the Linux labs).
    #[serde(default)]
    pub plan: Plan,
    /// Machines on one LAN, each with a Docker Engine unless `docker: false`.
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    /// Commands typed on the hosts, in order: `docker …`, or `curl`/`ping`/`mysql`/`nslookup`.
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub traffic: Vec<Traffic>,
    /// Where the GUI draws a namespace, pinned by the instructor: `{"node1": (40, 60)}`, in
    /// points from the top left of the topology; the others are laid out around them.
    #[serde(default)]
    pub layout: std::collections::BTreeMap<String, (f32, f32)>,
    /// The Docker Engine the hosts run: `engine: (version: "20.10", mtu: 1400)`; both fields
    /// optional (v29 and 1500 by default). Code may change it after loading: `Loaded::build`
    /// uses whatever is here then.
    #[serde(default)]
    pub engine: EngineSpec,
    /// What the lab teaches: shown above the hop log and in the GUI's lesson pane.
    #[serde(default)]
    pub lesson: Option<crate::lesson::Lesson>,
    /// What holds when the lab works: `netsim check` grades these.
    #[serde(default)]
    pub expect: Vec<crate::lesson::Expectation>,
    /// Every step is part of the exercise (as if each were `hidden: true`): the student types
    /// them.
    #[serde(default)]
    pub exercise: bool,
    /// Questions the GUI asks before showing what happens (challenge mode).
    #[serde(default)]
    pub quiz: Vec<crate::lesson::Quiz>,
}

impl Scenario {
    /// Whether step `i` is the student's to type (`hidden`, or any step of an `exercise`):
    /// neither it nor its note is shown to the student.
    pub fn is_students(&self, i: usize) -> bool {
        self.exercise || self.steps.get(i).is_some_and(|s| s.hidden)
    }
}

/// The largest scenario file `Loaded::from_file` reads. Shipped labs are a few KiB; this
/// leaves room for generated ones while `netsim run /dev/zero` or a mistyped log file stops
/// at once instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// Longest source line shown in a diagnostic; longer lines are cut around the error.
const MAX_SHOWN_LINE: usize = 160;

/// Longest value echoed inside a message.
const MAX_ECHO: usize = 80;

/// At most this many errors are listed for one file; the rest are counted.
const MAX_REPORTED: usize = 100;

pub use crate::userland::apps::PING_MAX_SIZE;

pub use crate::userland::apps::MAX_COUNT;

/// Ethernet-like devices: `ETH_MIN_MTU` and `ETH_MAX_MTU` (`include/uapi/linux/if_ether.h`).
/// `ether_setup` sets the minimum; veth (`drivers/net/veth.c`), bridge
/// (`net/bridge/br_device.c`) and vxlan (`drivers/net/vxlan/vxlan_core.c`) set the maximum;
/// `dev_validate_mtu` (`net/core/dev.c`) refuses anything outside at creation.
pub const ETH_MIN_MTU: u32 = 68;
pub const ETH_MAX_MTU: u32 = 65535;

/// Layers a `Frame` check can name, as the dissector (`wire::dissect`) names them.
const FRAME_PROTOS: [&str; 10] = ["802.1q", "arp", "ipv4", "icmp", "udp", "tcp", "vxlan", "dns", "http", "mysql"];

/// `IFNAMSIZ` (`include/uapi/linux/if.h`): a name and its NUL.
pub const IFNAMSIZ: usize = 16;

/// What a scenario file gets wrong: the first error (in file order) and, in `others`, the
/// rest, each at its own file:line:col with the line shown.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{col}: {message}")]
pub struct ScenarioError {
    pub message: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The file as shown (long lines cut); the errors in `others` point into it too.
    #[source_code]
    src: Option<Arc<Shown>>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    pub help: Option<String>,
    /// The file's other errors, in file order.
    #[related]
    pub others: Vec<ScenarioError>,
}

impl ScenarioError {
    /// Every error of the file, the first one included.
    pub fn all(&self) -> impl Iterator<Item = &ScenarioError> {
        std::iter::once(self).chain(self.others.iter())
    }

    /// An error about the file as a whole (it cannot be read), with no place in it.
    fn whole_file(file: &str, message: String, help: &str) -> Box<ScenarioError> {
        Box::new(ScenarioError {
            message,
            file: file.to_string(),
            line: 1,
            col: 1,
            src: None,
            span: None,
            label: String::new(),
            help: Some(help.to_string()),
            others: Vec::new(),
        })
    }

    /// One error per problem, in file order; the first carries the others.
    fn from_problems(file: &str, text: &str, mut problems: Vec<Problem>) -> Box<ScenarioError> {
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        problems.dedup_by(|a, b| a.span == b.span && a.message == b.message);
        let total = problems.len();
        problems.truncate(MAX_REPORTED);
        if total > MAX_REPORTED
            && let Some(last) = problems.last_mut()
        {
            let more = format!("{} more error(s) not listed", total - MAX_REPORTED);
            last.help = Some(match last.help.take() {
                Some(h) => format!("{h}; {more}"),
                None => more,
            });
        }
        let spans: Vec<Range<usize>> = problems.iter().map(|p| p.span.clone()).collect();
        let shown = Arc::new(Shown::new(file, text, &spans));
        let mut errors = problems.into_iter().map(|p| {
            let (line, col) = line_col(text, p.span.start);
            ScenarioError {
                message: clip_text(&p.message, 1000),
                file: file.to_string(),
                line,
                col,
                src: None,
                span: Some(shown.span(&p.span)),
                label: clip_text(&p.label, MAX_ECHO),
                help: p.help.map(|h| clip_text(&h, 1000)),
                others: Vec::new(),
            }
        });
        let Some(mut first) = errors.next() else {
            return Self::whole_file(file, "the scenario is invalid".into(), "see scenarios/README.md");
        };
        first.others = errors.collect();
        first.src = Some(shown);
        Box::new(first)
    }
}

/// Something a file does that its author may not mean, at its file:line:col: shown before
/// the run, which goes on.
#[derive(Clone, Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{col}: {message}")]
#[diagnostic(severity(Warning))]
pub struct ScenarioWarning {
    pub message: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
    #[source_code]
    src: Option<Arc<Shown>>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    pub help: Option<String>,
}

impl From<&ScenarioError> for ScenarioWarning {
    fn from(e: &ScenarioError) -> ScenarioWarning {
        ScenarioWarning {
            message: e.message.clone(),
            file: e.file.clone(),
            line: e.line,
            col: e.col,
            src: e.src.clone(),
            span: e.span,
            label: e.label.clone(),
            help: e.help.clone(),
        }
    }
}

/// One thing wrong, at a byte range of the file.
#[derive(Debug)]
struct Problem {
    span: Range<usize>,
    message: String,
    label: String,
    help: Option<String>,
}

/// A failure's first line, past the container ID a failed `docker run` prints first.
fn first_line(s: &str) -> &str {
    let id = |l: &&str| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit());
    s.trim().lines().find(|l| !id(l)).unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, off: usize) -> (usize, usize) {
    let off = floor_boundary(text, off.min(text.len()));
    let before = &text[..off];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |nl| nl + 1)..].chars().count() + 1;
    (line, col)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// At most `max` bytes of `s` (on a character boundary), with `…` when cut.
fn clip_text(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    format!("{}…", &s[..floor_boundary(s, max)])
}

/// A value as it is echoed in a message.
fn echo(s: &str) -> String {
    clip_text(s, MAX_ECHO)
}

/// The file as a diagnostic shows it: every line kept (so line numbers stay right), but a
/// line longer than `MAX_SHOWN_LINE` is cut to a window around the first error on it, with
/// `…` where text was left out. miette then never copies a huge line into the terminal,
/// and never lays out a label wider than the window (a label tens of thousands of columns
/// wide makes its printer panic).
#[derive(Debug)]
struct Shown {
    name: String,
    text: String,
    /// Per cut line: where it starts in `text`, where its window starts in the file and in
    /// `text`, the window's length, and how many characters were left out before it.
    cuts: Vec<Cut>,
}

#[derive(Debug)]
struct Cut {
    /// The line in the file.
    line: Range<usize>,
    /// The window kept, in the file.
    kept: Range<usize>,
    /// Where the kept text starts in the shown text.
    at: usize,
    /// Characters left out before the window (the `…` stands for them).
    dropped_chars: usize,
    /// Shown offset minus file offset, for everything after this line.
    delta_after: isize,
}

impl Shown {
    fn new(name: &str, text: &str, spans: &[Range<usize>]) -> Shown {
        let mut out = String::with_capacity(text.len().min(1 << 20));
        let mut cuts = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            if body.len() <= MAX_SHOWN_LINE {
                out.push_str(line);
            } else {
                let anchor = spans.iter().map(|s| s.start).find(|&s| s >= start && s <= start + body.len());
                let from = match anchor {
                    Some(a) => floor_boundary(text, a.saturating_sub(MAX_SHOWN_LINE / 4).max(start)),
                    None => start,
                };
                let to = ceil_boundary(text, (from + MAX_SHOWN_LINE).min(start + body.len()));
                if from > start {
                    out.push('…');
                }
                let at = out.len();
                out.push_str(&text[from..to]);
                if to < start + body.len() {
                    out.push('…');
                }
                out.push_str(&line[body.len()..]);
                cuts.push(Cut {
                    line: start..end,
                    kept: from..to,
                    at,
                    dropped_chars: text[start..from].chars().count(),
                    delta_after: out.len() as isize - end as isize,
                });
            }
            start = end;
        }
        Shown { name: name.to_string(), text: out, cuts }
    }

    /// A byte offset of the file in the shown text.
    fn offset(&self, off: usize) -> usize {
        let i = self.cuts.partition_point(|c| c.line.end <= off);
        let shown = match self.cuts.get(i).filter(|c| c.line.start <= off) {
            Some(c) if off < c.kept.start => c.at,
            Some(c) => c.at + (off.min(c.kept.end) - c.kept.start),
            None => {
                let delta = i.checked_sub(1).and_then(|j| self.cuts.get(j)).map_or(0, |c| c.delta_after);
                off.saturating_add_signed(delta)
            }
        };
        shown.min(self.text.len())
    }

    fn span(&self, r: &Range<usize>) -> SourceSpan {
        let a = self.offset(r.start);
        let b = self.offset(r.end).max(a);
        let len = if b > a { b - a } else { ceil_boundary(&self.text, (a + 1).min(self.text.len())) - a };
        SourceSpan::new(a.into(), len)
    }
}

impl SourceCode for Shown {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // The column miette prints in its `[file:line:col]` header is the file's, not the
        // cut line's.
        let mut column = inner.column();
        if before == 0
            && after == 0
            && let Some(c) = self.cuts.iter().find(|c| {
                let len = c.kept.end - c.kept.start;
                span.offset() >= c.at && span.offset() <= c.at + len
            })
        {
            column = c.dropped_chars + self.text[c.at..span.offset()].chars().count();
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

/// A scenario read from a file, with its source kept for later diagnostics.
#[derive(Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    pub file: String,
    /// The file's text (without a leading UTF-8 byte order mark).
    pub text: String,
    spans: SpanIndex,
    /// What checking the steps found each one changes, and the inputs it was found for: a
    /// run of the same file with the same seed applies these instead of computing them again.
    prepared: Option<Arc<Prepared>>,
    /// What the file does that it may not mean: steps that fail (the lab goes on past them)
    /// or do not fail as marked, commands the simulator does not model.
    pub warnings: Vec<ScenarioWarning>,
}

/// What a file that loads brings besides its scenario: each step's plan change, and the
/// warnings about its steps.
type Validated = (Vec<Option<crate::kernel::reconf::PlanDelta>>, Vec<Problem>);

/// The load check's deltas (`Director::check_all`), valid for exactly these inputs.
struct Prepared {
    seed: u64,
    hosts: Vec<HostSpec>,
    steps: Vec<Step>,
    plan: Plan,
    engine: crate::docker::era::EngineSpec,
    deltas: Arc<Vec<Option<crate::kernel::reconf::PlanDelta>>>,
}

impl Prepared {
    fn fits(&self, s: &Scenario, seed: u64) -> bool {
        self.seed == seed
            && self.engine == s.engine
            && self.hosts == s.hosts
            && self.steps == s.steps
            && self.plan == s.plan
    }
}

impl Loaded {
    /// Reads and checks a scenario file. Only regular files up to `MAX_FILE_BYTES` are read.
    pub fn from_file(path: &Path) -> Result<Loaded, Box<ScenarioError>> {
        let file = path.display().to_string();
        let fail = |m: String| {
            ScenarioError::whole_file(
                &file,
                format!("cannot read the scenario file: {m}"),
                "check the path; shipped scenarios are under scenarios/",
            )
        };
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if meta.is_dir() {
            return Err(fail("it is a directory".into()));
        }
        if !meta.is_file() {
            return Err(fail("not a regular file (a device, pipe or socket)".into()));
        }
        let too_big = || fail(format!("larger than {} MiB, the most netsim reads", MAX_FILE_BYTES >> 20));
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_big());
        }
        // The size may change between the look and the read: read one byte past the limit.
        let f = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut bytes = Vec::new();
        f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| fail(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_big());
        }
        match String::from_utf8(bytes) {
            Ok(text) => Self::from_str(&file, &text),
            Err(e) => {
                let good = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let head = String::from_utf8_lossy(bytes.get(..good).unwrap_or_default()).into_owned();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let at = head.len();
                Err(ScenarioError::from_problems(
                    &file,
                    &text,
                    vec![Problem {
                        span: at..ceil_boundary(&text, (at + 1).min(text.len())),
                        message: "the file is not UTF-8 text".into(),
                        label: "not UTF-8".into(),
                        help: Some("save the scenario as UTF-8".into()),
                    }],
                ))
            }
        }
    }

    pub fn from_str(file: &str, text: &str) -> Result<Loaded, Box<ScenarioError>> {
        // Editors on Windows start UTF-8 files with a byte order mark; it is not part of the
        // RON. Dropping it keeps lines and columns as the editor shows them.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // `field: "x"` for optional fields, without `Some(…)`: friendlier for instructors.
        let opts = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let scenario: Scenario = opts.from_str(text).map_err(|e| {
            let start = offset_of(text, e.span.start.line, e.span.start.col);
            let end = offset_of(text, e.span.end.line, e.span.end.col);
            let end = if end > start { end } else { ceil_boundary(text, (start + 1).min(text.len())) };
            let p = Problem {
                span: start..end,
                message: e.code.to_string(),
                label: "here".into(),
                help: Some(ron_hint(&e.code)),
            };
            ScenarioError::from_problems(file, text, vec![p])
        })?;
        let mut loaded = Loaded {
            scenario,
            file: file.to_string(),
            text: text.to_string(),
            spans: SpanIndex::build(text),
            prepared: None,
            warnings: Vec::new(),
        };
        let (deltas, warnings) = loaded.validate()?;
        if !warnings.is_empty() {
            let all = ScenarioError::from_problems(file, text, warnings);
            loaded.warnings =
                all.all().map(|e| ScenarioWarning { src: all.src.clone(), ..ScenarioWarning::from(e) }).collect();
        }
        if deltas.iter().any(Option::is_some) {
            let s = &loaded.scenario;
            loaded.prepared = Some(Arc::new(Prepared {
                seed: s.seed,
                hosts: s.hosts.clone(),
                steps: s.steps.clone(),
                plan: s.plan.clone(),
                engine: s.engine,
                deltas: Arc::new(deltas),
            }));
        }
        Ok(loaded)
    }

    /// A problem at the value `path` (or the nearest item around it the file spells out).
    fn at(&self, path: &str, message: String, label: &str, help: Option<String>) -> Problem {
        let span = self.spans.find(path).unwrap_or(0..0);
        Problem { span, message, label: label.to_string(), help }
    }

    /// A problem about a value only its text identifies (the kernel-plan checks of `World`):
    /// the first value in the file spelled exactly so.
    fn about(&self, token: &str, message: String, help: Option<String>) -> Problem {
        let span = self.spans.value_spelled(&self.text, token).unwrap_or(0..0);
        Problem { span, message, label: "here".into(), help }
    }

    fn fail(&self, problems: Vec<Problem>) -> Box<ScenarioError> {
        ScenarioError::from_problems(&self.file, &self.text, problems)
    }

    /// Every check that needs no run: names, references, the kernel's limits, the steps'
    /// commands. All problems are collected, each at its own item; the checks that need a
    /// plan without those problems (the world's, the steps') run once there are none.
    fn validate(&self) -> Result<Validated, Box<ScenarioError>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let mut deltas = Vec::new();
        let known = self.check_plan(&mut problems);
        self.check_traffic(&known, &mut problems);
        self.check_capture(&mut problems);
        self.check_expect(&known, &mut problems);
        self.check_quiz(&known, &mut problems);
        if problems.is_empty() {
            match self.director_seeded(self.scenario.seed) {
                Err(p) => problems.push(p),
                Ok(d) => match World::from_plan(&d.plan(), self.scenario.seed) {
                    Err(e) => problems.push(self.about(
                        &e.token,
                        e.message,
                        Some("see scenarios/README.md for the plan's fields".into()),
                    )),
                    Ok(_) => {
                        let checked = d.check_all();
                        problems.extend(checked.errors.iter().map(|e| self.step_problem(e.index, &e.failure.message)));
                        warnings = self.step_warnings(&checked.failures, &checked.programs);
                        deltas = checked.deltas;
                    }
                },
            }
        }
        if problems.is_empty() { Ok((deltas, warnings)) } else { Err(self.fail(problems)) }
    }

    /// What an instructor should know about steps that run but fail, or do not fail: an
    /// unmarked step that fails, a `fails: true` step that succeeds, and a command the
    /// simulator does not model (marked or not: the lab would not teach what it says).
    fn step_warnings(&self, failures: &[crate::director::StepError], programs: &[usize]) -> Vec<Problem> {
        let mut out = Vec::new();
        let failed: BTreeMap<usize, &crate::director::Failure> =
            failures.iter().map(|f| (f.index, &f.failure)).collect();
        for (i, step) in self.scenario.steps.iter().enumerate() {
            let unseen = unseen_program(&step.run);
            let mut p = match (failed.get(&i), step.fails) {
                (Some(f), _) if f.unmodelled => {
                    let mut p = self.step_problem(i, first_line(&f.message));
                    p.help = Some(
                        "the simulator does not run this command: the step prints this and the lab goes on \
                         (scenarios/README.md lists what it runs)"
                            .into(),
                    );
                    p
                }
                (Some(f), false) => {
                    let mut p = self.step_problem(i, &format!("this step fails: {}", first_line(&f.message)));
                    p.help = Some(format!(
                        "exit status {}; the lab goes on, as a shell does. If the failure is the lesson, \
                         mark the step `fails: true`",
                        f.status
                    ));
                    p
                }
                // A program's exit status comes when it has run.
                (None, true) if !programs.contains(&i) => {
                    let mut p = self.step_problem(i, "this step is marked `fails: true` but succeeds");
                    p.help = Some("drop `fails: true`, or change the command so that it fails".into());
                    p
                }
                (None, _) if foreground_listener(&step.run) => {
                    let mut p = self.step_problem(
                        i,
                        "`nc -l` in the foreground waits for a connection: the steps after it wait with it, as a shell's \
                         terminal does",
                    );
                    p.help = Some(
                        "start it in the background: `docker exec -d NAME nc -l …` or `docker run -d … nc -l …`".into(),
                    );
                    p
                }
                (None, false) if unseen.is_some() => {
                    let (message, help) = unseen.unwrap_or_default();
                    let mut p = self.step_problem(i, &message);
                    p.help = Some(help);
                    p
                }
                (None, false) if endless_ping(&step.run) => {
                    let mut p = self.step_problem(
                        i,
                        "`ping` without `-c` runs until it is interrupted (Ctrl-C): the lab stops it after 4 echoes",
                    );
                    p.help = Some("write `ping -c N` to say how many echoes the step waits for".into());
                    p
                }
                _ => continue,
            };
            p.label = "this step".into();
            out.push(p);
        }
        out
    }

    /// Namespaces, interfaces and the references between them, with the kernel's rules for
    /// names and MTUs. Returns the namespaces the scenario defines (its hosts' included).
    fn check_plan(&self, out: &mut Vec<Problem>) -> BTreeSet<String> {
        let s = &self.scenario;
        let plan = &s.plan;
        let mut nss: BTreeSet<String> = BTreeSet::new();
        let mut devs = Devs::default();
        for (i, n) in plan.namespaces.iter().enumerate() {
            let path = format!("plan.namespaces[{i}].name");
            if let Some(m) = netns_name_problem(&n.name) {
                out.push(self.at(&path, m, "this name", None));
            } else if !nss.insert(n.name.clone()) {
                out.push(self.at(&path, ns_exists(&n.name), "defined again here", None));
            } else {
                devs.add(&n.name, "lo", Dev::LO);
            }
        }
        let mut host_names: HashSet<&str> = HashSet::new();
        for (i, h) in s.hosts.iter().enumerate() {
            let path = format!("hosts[{i}].name");
            if let Some(m) = netns_name_problem(&h.name) {
                out.push(self.at(&path, m, "this name", None));
            } else if !host_names.insert(h.name.as_str()) {
                let m = format!("host `{}` is defined twice", echo(&h.name));
                out.push(self.at(&path, m, "defined again here", Some("each host needs its own name".into())));
            } else if h.name == LAN_NS || !nss.insert(h.name.clone()) {
                let help = Some(format!("a host is a namespace of its name; `{LAN_NS}` is the hosts' LAN switch"));
                out.push(self.at(&path, ns_exists(&h.name), "defined again here", help));
            } else {
                devs.add(&h.name, "lo", Dev::LO);
                devs.add(&h.name, "eth0", Dev::ETH);
                if h.docker {
                    // The daemon adds its own devices (docker0, …) that the plan may name.
                    devs.open.insert(h.name.clone());
                }
            }
        }
        if !s.hosts.is_empty() {
            nss.insert(LAN_NS.into());
            devs.add(LAN_NS, "lo", Dev::LO);
            devs.add(LAN_NS, LAN_BRIDGE, Dev { mtu: Some(1500), bridge: true });
            for h in &s.hosts {
                devs.add(LAN_NS, &h.name.chars().take(IFNAMSIZ - 1).collect::<String>(), Dev::ETH);
            }
        }
        let no_ns = |path: String, ns: &str| {
            self.at(
                &path,
                format!("no namespace `{}`: add it to `namespaces`", echo(ns)),
                "no such namespace",
                Some(format!("namespaces are: {}", listing(nss.iter().map(String::as_str)))),
            )
        };
        // The devices each link makes, then the references between them.
        for (i, l) in plan.links.iter().enumerate() {
            let p = |f: &str| format!("plan.links[{i}].{f}");
            // The file's MTU, or the kernel's default where it is plain (1500 for veth and
            // bridge; vxlan, macvlan and VLAN devices take it from their lower device).
            let mtu = l.mtu().or(match l {
                Link::Veth { .. } | Link::Bridge { .. } => Some(1500),
                _ => None,
            });
            let dev = Dev { mtu, bridge: matches!(l, Link::Bridge { .. }) };
            if !nss.contains(l.ns()) {
                out.push(no_ns(p("ns"), l.ns()));
            } else {
                self.new_dev(out, &mut devs, &p("name"), l.ns(), l.name(), dev);
            }
            match l {
                Link::Veth { name, ns, peer, peer_ns, .. } => {
                    if !nss.contains(peer_ns) {
                        out.push(no_ns(p("peer_ns"), peer_ns));
                    } else if peer == name && peer_ns == ns {
                        out.push(self.at(
                            &p("peer"),
                            format!("veth `{}`: the peer needs another name", echo(name)),
                            "the same name",
                            None,
                        ));
                    } else {
                        self.new_dev(out, &mut devs, &p("peer"), peer_ns, peer, dev);
                    }
                }
                Link::Vxlan { name, vni, underlay_ns, .. } => {
                    if *vni >= 1 << 24 {
                        // `vxlan_validate` in drivers/net/vxlan/vxlan_core.c.
                        let m =
                            format!("vxlan `{}`: VNI {vni}: Error: VXLAN ID must be lower than 16777216", echo(name));
                        out.push(self.at(&p("vni"), m, "this VNI", None));
                    }
                    if let Some(u) = underlay_ns.as_deref().filter(|u| !nss.contains(*u)) {
                        out.push(no_ns(p("underlay_ns"), u));
                    }
                }
                Link::Macvlan { parent_ns: Some(u), .. } if !nss.contains(u) => out.push(no_ns(p("parent_ns"), u)),
                Link::Vlan { name, id, .. } if *id == 0 || *id >= 4095 => {
                    // `vlan_validate` in net/8021q/vlan_netlink.c: ids 1..=4094.
                    let m = format!("vlan `{}`: id {id}: Error: 8021q: Invalid VLAN id (1 to 4094)", echo(name));
                    out.push(self.at(&p("id"), m, "this id", None));
                }
                _ => {}
            }
            if let Some(m) = mtu_problem(l) {
                out.push(self.at(&p("mtu"), m, "this MTU", Some(MTU_HELP.into())));
            }
        }
        for (i, l) in plan.links.iter().enumerate() {
            let p = |f: &str| format!("plan.links[{i}].{f}");
            let mut masters: Vec<(String, &str, &str)> = Vec::new();
            match l {
                Link::Veth { ns, peer_ns, master, peer_master, .. } => {
                    masters.extend(master.as_deref().map(|m| (p("master"), ns.as_str(), m)));
                    masters.extend(peer_master.as_deref().map(|m| (p("peer_master"), peer_ns.as_str(), m)));
                }
                Link::Vxlan { name, ns, master, dev, underlay_ns, .. } => {
                    masters.extend(master.as_deref().map(|m| (p("master"), ns.as_str(), m)));
                    let u = underlay_ns.as_deref().unwrap_or(ns);
                    if let Some(d) = dev.as_deref()
                        && nss.contains(u)
                        && devs.missing(u, d)
                    {
                        out.push(self.no_dev(&devs, &p("dev"), &format!("vxlan `{}`: underlay", echo(name)), u, d));
                    }
                }
                _ => {}
            }
            if let Link::Macvlan { name, ns, parent, .. } | Link::Vlan { name, ns, parent, .. } = l {
                let pns = match l {
                    Link::Macvlan { parent_ns: Some(pn), .. } => pn.as_str(),
                    _ => ns.as_str(),
                };
                let kind = if matches!(l, Link::Vlan { .. }) { "vlan" } else { "macvlan" };
                if nss.contains(pns) && devs.missing(pns, parent) {
                    out.push(self.no_dev(
                        &devs,
                        &p("parent"),
                        &format!("{kind} `{}`: parent", echo(name)),
                        pns,
                        parent,
                    ));
                } else if let (Some(m), Some(pm)) = (l.mtu(), devs.mtu(pns, parent))
                    && m > pm
                {
                    // `macvlan_common_newlink` (drivers/net/macvlan.c) and `vlan_newlink`
                    // (net/8021q/vlan_netlink.c) refuse an MTU above the parent's.
                    let msg = format!(
                        "mtu {m} on {kind} `{}` is above its parent `{}`'s {pm} (RTNETLINK answers: Invalid argument)",
                        echo(name),
                        echo(parent)
                    );
                    out.push(self.at(&p("mtu"), msg, "this MTU", Some(format!("at most the parent's MTU, {pm}"))));
                }
            }
            for (path, ns, m) in masters {
                match devs.get(ns, m) {
                    _ if !nss.contains(ns) => {}
                    None if devs.open.contains(ns) => {}
                    None => {
                        let msg = format!("`{}`: no bridge `{}` in namespace `{}`", echo(l.name()), echo(m), echo(ns));
                        out.push(self.at(&path, msg, "no such bridge", None));
                    }
                    Some(d) if !d.bridge => {
                        let msg = format!("`{}`: master `{}` is not a bridge", echo(l.name()), echo(m));
                        out.push(self.at(&path, msg, "not a bridge", None));
                    }
                    Some(_) => {}
                }
            }
        }
        let mut addrs: HashSet<(&str, &str, std::net::Ipv4Addr)> = HashSet::new();
        for (i, a) in plan.addresses.iter().enumerate() {
            let p = |f: &str| format!("plan.addresses[{i}].{f}");
            if !nss.contains(&a.ns) {
                out.push(no_ns(p("ns"), &a.ns));
            } else if devs.missing(&a.ns, &a.dev) {
                out.push(self.no_dev(&devs, &p("dev"), &format!("address {}", a.addr), &a.ns, &a.dev));
            } else if !addrs.insert((&a.ns, &a.dev, a.addr.addr)) {
                let m = format!("address {} is already on `{}` (RTNETLINK answers: File exists)", a.addr, echo(&a.dev));
                out.push(self.at(&p("addr"), m, "added again here", None));
            }
        }
        let dev_refs =
            plan.routes
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("plan.routes[{i}]"), &r.ns, r.dev.as_deref(), format!("route {}", r.dst)))
                .chain(plan.neighbours.iter().enumerate().map(|(i, n)| {
                    (format!("plan.neighbours[{i}]"), &n.ns, Some(n.dev.as_str()), format!("neighbour {}", n.ip))
                }))
                .chain(plan.fdb.iter().enumerate().map(|(i, f)| {
                    (format!("plan.fdb[{i}]"), &f.ns, Some(f.dev.as_str()), format!("fdb entry {}", f.mac))
                }))
                .chain(
                    plan.qdiscs
                        .iter()
                        .enumerate()
                        .map(|(i, q)| (format!("plan.qdiscs[{i}]"), &q.ns, Some(q.dev.as_str()), "qdisc".to_string())),
                )
                .chain(
                    plan.down
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (format!("plan.down[{i}]"), &x.ns, Some(x.dev.as_str()), "down".to_string())),
                )
                .chain(plan.bridge_ports.iter().enumerate().map(|(i, x)| {
                    (format!("plan.bridge_ports[{i}]"), &x.ns, Some(x.dev.as_str()), "bridge port".to_string())
                }));
        for (item, ns, dev, what) in dev_refs {
            if !nss.contains(ns) {
                out.push(no_ns(format!("{item}.ns"), ns));
            } else if let Some(d) = dev
                && devs.missing(ns, d)
            {
                out.push(self.no_dev(&devs, &format!("{item}.dev"), &what, ns, d));
            }
        }
        let mut qdisc_devs: HashSet<(&str, &str)> = HashSet::new();
        for (i, q) in plan.qdiscs.iter().enumerate() {
            let words: Vec<&str> = q.netem.split_whitespace().collect();
            if let Err(m) = crate::kernel::qdisc::Netem::parse(&words) {
                out.push(self.at(
                    &format!("plan.qdiscs[{i}].netem"),
                    format!("netem: {m}"),
                    "here",
                    Some("tc's words after `netem`: delay TIME [JITTER], loss P%, rate RATE, limit N".into()),
                ));
            }
            if !qdisc_devs.insert((&q.ns, &q.dev)) {
                let m = format!(
                    "`{}` in `{}` has a root qdisc already (Error: Exclusivity flag on, cannot modify.)",
                    echo(&q.dev),
                    echo(&q.ns)
                );
                out.push(self.at(&format!("plan.qdiscs[{i}].dev"), m, "given again here", None));
            }
        }
        let mut port_devs: HashSet<(&str, &str)> = HashSet::new();
        for (i, x) in plan.bridge_ports.iter().enumerate() {
            let at = |f: &str| format!("plan.bridge_ports[{i}].{f}");
            if nss.contains(&x.ns) && !devs.missing(&x.ns, &x.dev) && plan.master_of(&x.ns, &x.dev).is_none() {
                // br_setport is reached only through a port's master (RTM_SETLINK with
                // IFLA_PROTINFO on a device without one: EOPNOTSUPP).
                let m = format!(
                    "`{}` in `{}` is not a bridge port (RTNETLINK answers: Operation not supported)",
                    echo(&x.dev),
                    echo(&x.ns)
                );
                out.push(self.at(&at("dev"), m, "no master", Some("give the device a `master` bridge".into())));
            } else if !port_devs.insert((&x.ns, &x.dev)) {
                let m = format!("`{}` in `{}` has its port flags given already", echo(&x.dev), echo(&x.ns));
                out.push(self.at(
                    &at("dev"),
                    m,
                    "given again here",
                    Some("one entry per port, with every flag".into()),
                ));
            }
        }
        let ns_refs = (plan.iptables.iter().enumerate().map(|(i, x)| (format!("plan.iptables[{i}].ns"), &x.ns)))
            .chain(plan.ipvs.iter().enumerate().map(|(i, x)| (format!("plan.ipvs[{i}].ns"), &x.ns)))
            .chain(plan.sysctls.iter().enumerate().map(|(i, x)| (format!("plan.sysctls[{i}].ns"), &x.ns)));
        for (path, ns) in ns_refs {
            if !nss.contains(ns) {
                out.push(no_ns(path, ns));
            }
        }
        nss
    }

    fn new_dev(&self, out: &mut Vec<Problem>, devs: &mut Devs, path: &str, ns: &str, name: &str, dev: Dev) {
        if let Some(m) = ifname_problem(name) {
            out.push(self.at(path, m, "this name", Some(IFNAME_HELP.into())));
        } else if devs.get(ns, name).is_some() {
            let m = format!(
                "namespace `{}` already has a device `{}` (RTNETLINK answers: File exists)",
                echo(ns),
                echo(name)
            );
            out.push(self.at(path, m, "defined again here", None));
        } else {
            devs.add(ns, name, dev);
        }
    }

    fn no_dev(&self, devs: &Devs, path: &str, what: &str, ns: &str, dev: &str) -> Problem {
        self.at(
            path,
            format!("{what}: no device `{}` in `{}`", echo(dev), echo(ns)),
            "no such device",
            Some(format!("`{}` has: {}", echo(ns), devs.names(ns))),
        )
    }

    /// The programs of `traffic`: their namespace, and the limits of ping and of the
    /// simulator.
    fn check_traffic(&self, nss: &BTreeSet<String>, out: &mut Vec<Problem>) {
        for (i, t) in self.scenario.traffic.iter().enumerate() {
            let p = |f: &str| format!("traffic[{i}].{f}");
            if !nss.contains(t.ns()) {
                out.push(self.at(
                    &p("ns"),
                    format!("traffic step runs in namespace `{}`, which the plan does not define", echo(t.ns())),
                    "no such namespace",
                    Some(format!("namespaces are: {}", listing(nss.iter().map(String::as_str)))),
                ));
            }
            let count = match t {
                Traffic::Ping { count, size, deadline, interval, .. } => {
                    if *size > PING_MAX_SIZE {
                        out.push(self.at(
                            &p("size"),
                            format!("ping: packet size {size} is too large. Maximum is {PING_MAX_SIZE}"),
                            "this size",
                            Some("65535 bytes of IPv4 packet, less 20 of IP header and 8 of ICMP header".into()),
                        ));
                    }
                    if *count == 0 && deadline.is_none() {
                        out.push(self.at(
                            &p("count"),
                            "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807".into(),
                            "this count",
                            Some("count 0 sends until a `deadline` (ping -w), which this item lacks".into()),
                        ));
                    }
                    // With count 0, as many as the deadline lets through.
                    match (*count, deadline) {
                        (0, Some(d)) => u32::try_from(crate::userland::apps::ping_requests(*interval, *d)).ok(),
                        (c, _) => Some(c),
                    }
                }
                Traffic::UdpSend { count, payload, .. } => {
                    if payload.len() > PING_MAX_SIZE {
                        out.push(self.at(
                            &p("payload"),
                            format!(
                                "sendto: Message too long ({} bytes; a UDP datagram over IPv4 carries at most {PING_MAX_SIZE})",
                                payload.len()
                            ),
                            "this payload",
                            None,
                        ));
                    }
                    Some(*count)
                }
                Traffic::Announce { count, .. } => Some(*count),
                _ => None,
            };
            if let Some(c) = count.filter(|c| *c > MAX_COUNT) {
                out.push(self.at(
                    &p("count"),
                    format!("count {c} is more than the simulator sends for one traffic item (at most {MAX_COUNT})"),
                    "this count",
                    Some("split the traffic into several items, or lower the count".into()),
                ));
            }
        }
    }

    /// `capture` names: `namespace/interface` or `namespace/*`.
    fn check_capture(&self, out: &mut Vec<Problem>) {
        for (i, n) in self.scenario.capture.iter().flatten().enumerate() {
            if let Err(m) = CaptureNames::parse_one(n) {
                out.push(self.at(&format!("capture[{i}]"), m, "this name", Some(CAPTURE_HELP.into())));
            }
        }
    }

    /// The lesson and the checks: each names a step, host, namespace, table or protocol the
    /// file has or the simulator knows.
    fn check_expect(&self, known: &BTreeSet<String>, out: &mut Vec<Problem>) {
        use crate::lesson::Check;
        let s = &self.scenario;
        if s.lesson.as_ref().is_some_and(|l| l.title.trim().is_empty()) {
            out.push(self.at("lesson.title", "the lesson has no title".into(), "empty", None));
        }
        let hosts: Vec<&str> = s.hosts.iter().map(|h| h.name.as_str()).collect();
        let docker_hosts: Vec<&str> = s.hosts.iter().filter(|h| h.docker).map(|h| h.name.as_str()).collect();
        let mut names: HashSet<&str> = HashSet::new();
        for (i, e) in s.expect.iter().enumerate() {
            let p = |f: &str| format!("expect[{i}].{f}");
            if e.name.trim().is_empty() {
                out.push(self.at(&p("name"), "a check needs a name the student reads".into(), "empty", None));
            } else if !names.insert(e.name.as_str()) {
                let m = format!("two checks are named `{}`", echo(&e.name));
                out.push(self.at(&p("name"), m, "named again here", Some("each check needs its own name".into())));
            }
            if let Some(k) = e.after
                && (k == 0 || k > s.steps.len())
            {
                let m = format!("after: {k}: the file has {} step(s), counted from 1", s.steps.len());
                out.push(self.at(&p("after"), m, "no such step", Some("leave `after` out to check at the end".into())));
            }
            let c = &e.check;
            // The namespace a check names: a host, a plan namespace, or a sandbox of a host
            // (`node1:ingress_sbox`), made by its daemon as the steps run.
            if let Some(on) = c.on() {
                let ns = match c {
                    Check::Frame { .. } => on.rsplit_once('/').map_or(on, |(ns, _)| ns),
                    _ => on,
                };
                let host = ns.split_once(':').map_or(ns, |(h, _)| h);
                let has_container = matches!(
                    c,
                    Check::Reach { container: Some(_), .. }
                        | Check::Resolve { container: Some(_), .. }
                        | Check::Frame { container: Some(_), .. }
                        | Check::Counter { container: Some(_), .. }
                        | Check::Table { container: Some(_), .. }
                );
                let fine = match c {
                    Check::Command { .. } => hosts.contains(&on),
                    _ if has_container => docker_hosts.contains(&ns),
                    _ if ns.contains(':') => hosts.contains(&host),
                    _ => known.contains(ns),
                };
                if !fine {
                    let (m, help) = match c {
                        Check::Command { .. } => {
                            (format!("no host `{}` to type the command on", echo(on)), hosts.join(", "))
                        }
                        _ if has_container => (
                            format!("`container` needs a Docker host; `{}` is not one", echo(ns)),
                            docker_hosts.join(", "),
                        ),
                        _ => {
                            (format!("no host or namespace `{}`", echo(ns)), listing(known.iter().map(String::as_str)))
                        }
                    };
                    out.push(self.at(&p("check.on"), m, "not in this lab", Some(format!("the lab has: {help}"))));
                }
            }
            match c {
                Check::Resolve { answer, .. }
                    if !answer.eq_ignore_ascii_case("NXDOMAIN") && answer.parse::<std::net::Ipv4Addr>().is_err() =>
                {
                    let m = format!("answer `{}`: give an IPv4 address or NXDOMAIN", echo(answer));
                    out.push(self.at(&p("check.answer"), m, "this answer", None));
                }
                Check::Frame { proto: Some(pr), .. } if !FRAME_PROTOS.iter().any(|x| x.eq_ignore_ascii_case(pr)) => {
                    let m = format!("proto `{}` is not one the dissector names", echo(pr));
                    out.push(self.at(
                        &p("check.proto"),
                        m,
                        "this protocol",
                        Some(format!("one of: {}", FRAME_PROTOS.join(", "))),
                    ));
                }
                Check::Frame { at_least: Some(0), .. } | Check::Frame { count: Some(0), .. } => {
                    let m = "a count of 0: say `seen: false` for frames that must never be sent".to_string();
                    out.push(self.at(&p("check"), m, "this check", None));
                }
                Check::Frame { at_least, count, seen, .. }
                    if (at_least.is_some() || count.is_some())
                        && (!seen || (at_least.is_some() && count.is_some())) =>
                {
                    let m = "give one of `at_least` and `count`, and neither with `seen: false`".to_string();
                    out.push(self.at(&p("check"), m, "this check", None));
                }
                Check::Counter { table: Some(t), .. } if crate::kernel::netfilter::Table::from_name(t).is_none() => {
                    let m = format!("no iptables table `{}`", echo(t));
                    out.push(self.at(&p("check.table"), m, "this table", Some("filter, nat, mangle or raw".into())));
                }
                Check::Table { show, .. } => {
                    if let Err(m) = show.parse::<crate::kernel::show::What>() {
                        out.push(self.at(&p("check.show"), m, "this table", None));
                    }
                }
                Check::Command { contains: None, equals: None, .. } => {
                    let m = "a Command check needs `contains` or `equals`: what its output must show".to_string();
                    out.push(self.at(&p("check"), m, "this check", None));
                }
                _ => {}
            }
        }
    }

    /// Quiz items: each asked at a step the file has or at a frame, with an answer among its
    /// choices; the simulator's own questions need a frame to ask about.
    fn check_quiz(&self, known: &BTreeSet<String>, out: &mut Vec<Problem>) {
        use crate::lesson::Ask;
        let s = &self.scenario;
        for (i, q) in s.quiz.iter().enumerate() {
            let p = |f: &str| format!("quiz[{i}].{f}");
            match (q.at_step, &q.frame) {
                (Some(_), Some(_)) | (None, None) => out.push(self.at(
                    &p("name"),
                    "a quiz item is asked either `at_step` or at a `frame`: give one".into(),
                    "this item",
                    None,
                )),
                // In an exercise the student's commands replace the hidden steps: a question
                // before one of them, or after, has no step to wait for.
                (Some(k), None) if k > 0 && (0..k.min(s.steps.len())).any(|i| s.is_students(i)) => out.push(self.at(
                    &p("at_step"),
                    format!("at_step: {k}: step {k} or one before it is the student's to type"),
                    "no such step for the student",
                    Some("ask it at a frame instead, or before a step the file shows".into()),
                )),
                (Some(k), None) if k == 0 || k > s.steps.len() => out.push(self.at(
                    &p("at_step"),
                    format!("at_step: {k}: the file has {} step(s), counted from 1", s.steps.len()),
                    "no such step",
                    None,
                )),
                (_, Some(f)) => {
                    let ns = f.on.rsplit_once('/').map_or(f.on.as_str(), |(ns, _)| ns);
                    let host = ns.split_once(':').map_or(ns, |(h, _)| h);
                    if !(known.contains(ns) || (ns.contains(':') && known.contains(host))) {
                        out.push(self.at(
                            &p("frame.on"),
                            format!("no host or namespace `{}`", echo(ns)),
                            "not in this lab",
                            Some(format!("the lab has: {}", listing(known.iter().map(String::as_str)))),
                        ));
                    }
                    if let Some(pr) =
                        f.proto.as_ref().filter(|pr| !FRAME_PROTOS.iter().any(|x| x.eq_ignore_ascii_case(pr)))
                    {
                        out.push(self.at(
                            &p("frame.proto"),
                            format!("proto `{}` is not one the dissector names", echo(pr)),
                            "this protocol",
                            Some(format!("one of: {}", FRAME_PROTOS.join(", "))),
                        ));
                    }
                }
                _ => {}
            }
            match &q.ask {
                Ask::Choice { choices, .. } if choices.len() < 2 => {
                    out.push(self.at(&p("ask.choices"), "give at least two choices".into(), "these choices", None));
                }
                Ask::Choice { choices, answer, .. } if *answer == 0 || *answer > choices.len() => out.push(self.at(
                    &p("ask.answer"),
                    format!("answer: {answer}: there are {} choices, counted from 1", choices.len()),
                    "no such choice",
                    None,
                )),
                Ask::NextHop | Ask::Rule if q.frame.is_none() => out.push(self.at(
                    &p("ask"),
                    "the simulator asks this about a frame: give `frame: (on: \"ns/dev\", …)`".into(),
                    "no frame to ask about",
                    None,
                )),
                _ => {}
            }
        }
    }

    fn director_seeded(&self, seed: u64) -> Result<Director, Problem> {
        let s = &self.scenario;
        Director::with_engine(&s.hosts, &s.steps, &s.plan, seed, s.engine).map_err(|m| {
            let at = s.hosts.iter().position(|h| m.contains(&format!("`{}`", h.name)));
            let path = at.map_or_else(|| "hosts".to_string(), |i| format!("hosts[{i}].name"));
            self.at(&path, m, "here", None)
        })
    }

    /// An error in step `index`: points into its `run` string, at the offending word when
    /// the message names it.
    fn step_problem(&self, index: usize, message: &str) -> Problem {
        let path = format!("steps[{index}].run");
        let Some(step) = self.scenario.steps.get(index) else {
            return self.at("steps", message.to_string(), "this step", None);
        };
        let help = Some(format!("step {} (on `{}`): `{}`", index + 1, echo(&step.on), echo(&step.run)));
        let Some(span) = self.spans.get(&path) else {
            return self.at(&path, message.to_string(), "this step", help);
        };
        // The string's body, without its quotes; words are found in the file's own text so
        // escapes and non-ASCII stay aligned.
        let body = (span.start + 1)..span.end.saturating_sub(1).max(span.start + 1);
        let raw = self.text.get(body.clone()).unwrap_or_default();
        let word = step.run.split_whitespace().find(|w| {
            message.contains(w.trim_matches('"')) && w.len() > 1 && !["docker", "network", "run"].contains(w)
        });
        let span = match word.and_then(|w| raw.find(w).map(|i| (i, w.len()))) {
            Some((i, n)) => body.start + i..body.start + i + n,
            None => body,
        };
        Problem { span, message: message.to_string(), label: "this step".into(), help }
    }

    /// The lab with its exercise done by the student: the steps the file shows (not
    /// `hidden`, and none at all in an `exercise`) and then the commands of `text`, one per
    /// line as typed at a host's prompt (`node1$ docker swarm init`; the prompt may be left
    /// out when the lab has one host; `#` starts a comment). Errors point into `text`.
    pub fn with_commands(&self, file: &str, text: &str) -> Result<Loaded, Box<ScenarioError>> {
        let s = &self.scenario;
        let hosts: Vec<&str> = s.hosts.iter().map(|h| h.name.as_str()).collect();
        let mut steps: Vec<Step> =
            s.steps.iter().enumerate().filter(|(i, _)| !s.is_students(*i)).map(|(_, st)| st.clone()).collect();
        let shown = steps.len();
        let mut spans: Vec<Range<usize>> = Vec::new();
        let mut problems = Vec::new();
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            let start = at;
            at += line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            let lead = body.len() - body.trim_start().len();
            let typed = body.trim();
            if typed.is_empty() || typed.starts_with('#') {
                continue;
            }
            let span = start + lead..start + lead + typed.len();
            let (on, run) = match typed.split_once('$') {
                Some((h, r)) if hosts.contains(&h.trim()) => (h.trim().to_string(), r.trim().to_string()),
                _ if hosts.len() == 1 => (hosts[0].to_string(), typed.to_string()),
                Some((h, _)) if !h.trim().contains(' ') && !h.trim().is_empty() => {
                    problems.push(Problem {
                        span: span.start..span.start + h.trim_end().len(),
                        message: format!("no host `{}` in this lab", echo(h.trim())),
                        label: "this prompt".into(),
                        help: Some(format!("hosts: {}", hosts.join(", "))),
                    });
                    continue;
                }
                _ => {
                    problems.push(Problem {
                        span,
                        message: "which host is this typed on?".into(),
                        label: "this command".into(),
                        help: Some(format!(
                            "start the line with the host's prompt: `{}$ …`",
                            hosts.first().unwrap_or(&"node1")
                        )),
                    });
                    continue;
                }
            };
            if run.is_empty() {
                continue;
            }
            spans.push(span);
            steps.push(Step::typed(None, &on, &run));
        }
        if hosts.is_empty() {
            problems.push(Problem {
                span: 0..0,
                message: format!("{} has no hosts to type commands on", self.file),
                label: "here".into(),
                help: Some("an exercise needs `hosts:`".into()),
            });
        }
        if !problems.is_empty() {
            return Err(ScenarioError::from_problems(file, text, problems));
        }
        let mut l = self.clone();
        l.scenario.steps = steps;
        l.scenario.exercise = false;
        l.prepared = None;
        l.warnings = Vec::new();
        // Each of the student's commands is checked as the file's steps are: one the shell
        // cannot run at all is an error at its line; one that fails is a warning there, and
        // the lab goes on past it.
        let d = l.director_seeded(l.scenario.seed).map_err(|p| l.fail(vec![p]))?;
        let checked = d.check_all();
        let at = |i: usize| spans.get(i.wrapping_sub(shown)).cloned().unwrap_or(0..0);
        let problem = |i: usize, message: String, help: Option<String>| Problem {
            span: at(i),
            message,
            label: "this command".into(),
            help,
        };
        let errors: Vec<Problem> =
            checked.errors.iter().map(|e| problem(e.index, e.failure.message.clone(), None)).collect();
        if !errors.is_empty() {
            return Err(ScenarioError::from_problems(file, text, errors));
        }
        let warnings: Vec<Problem> = checked
            .failures
            .iter()
            .filter(|f| f.index >= shown)
            .map(|f| {
                let help = Some(format!("exit status {}; the lab goes on, as a shell does", f.failure.status));
                problem(f.index, format!("this command fails: {}", first_line(&f.failure.message)), help)
            })
            .collect();
        if !warnings.is_empty() {
            let all = ScenarioError::from_problems(file, text, warnings);
            l.warnings =
                all.all().map(|e| ScenarioWarning { src: all.src.clone(), ..ScenarioWarning::from(e) }).collect();
        }
        Ok(l)
    }

    /// Builds the world and the engine, ready to run.
    pub fn build(&self, seed: Option<u64>) -> Result<Sim, Box<ScenarioError>> {
        let seed = seed.unwrap_or(self.scenario.seed);
        let mut director = self.director_seeded(seed).map_err(|p| self.fail(vec![p]))?;
        if let Some(p) = self.prepared.as_ref().filter(|p| p.fits(&self.scenario, seed)) {
            director.prepare(Some(p.deltas.clone()));
        }
        let mut w = World::from_plan(&director.plan(), seed).map_err(|e| {
            self.fail(vec![self.about(
                &e.token,
                e.message,
                Some("see scenarios/README.md for the plan's fields".into()),
            )])
        })?;
        for (i, t) in self.scenario.traffic.iter().enumerate() {
            w.add_traffic(t)
                .map_err(|m| self.fail(vec![self.at(&format!("traffic[{i}]"), m, "this program", None)]))?;
        }
        if let Some(cap) = &self.scenario.capture {
            let names = CaptureNames::parse(cap).map_err(|m| self.fail(vec![self.at("capture", m, "here", None)]))?;
            names.resolve(&mut w);
            // Without steps no namespace or interface appears later: what is missing now
            // is missing for good.
            if director.steps.is_empty() {
                let problems: Vec<Problem> = names
                    .missing(&w)
                    .into_iter()
                    .map(|(i, m)| self.at(&format!("capture[{i}]"), m, "not found", Some(CAPTURE_HELP.into())))
                    .collect();
                if !problems.is_empty() {
                    return Err(self.fail(problems));
                }
            }
        }
        Ok(Sim::with_director(w, director))
    }
}

const CAPTURE_HELP: &str = "write interfaces as namespace/interface, e.g. host/br0, or namespace/* for all of one";

const IFNAME_HELP: &str = "an interface name has 1 to 15 bytes, is not `.` or `..`, and has no `/`, `:` or whitespace (dev_valid_name in net/core/dev.c)";

const MTU_HELP: &str = "Ethernet-like devices take an MTU from 68 (ETH_MIN_MTU) to 65535 (ETH_MAX_MTU)";

/// What the checks know of a device.
#[derive(Clone, Copy, Debug)]
struct Dev {
    /// Its MTU, where the file says or the kernel's default is plain.
    mtu: Option<u32>,
    bridge: bool,
}

impl Dev {
    /// `lo`: the kernel's loopback MTU.
    const LO: Dev = Dev { mtu: Some(65536), bridge: false };
    const ETH: Dev = Dev { mtu: Some(1500), bridge: false };
}

/// Devices by namespace and name, as the plan makes them.
#[derive(Default)]
struct Devs {
    by_ns: HashMap<String, BTreeMap<String, Dev>>,
    /// Namespaces where others add devices too (a Docker host's daemon): a name not found
    /// there is left for `World` to judge.
    open: HashSet<String>,
}

impl Devs {
    fn add(&mut self, ns: &str, name: &str, d: Dev) {
        self.by_ns.entry(ns.to_string()).or_default().entry(name.to_string()).or_insert(d);
    }
    fn get(&self, ns: &str, name: &str) -> Option<Dev> {
        self.by_ns.get(ns).and_then(|m| m.get(name)).copied()
    }
    fn missing(&self, ns: &str, name: &str) -> bool {
        self.get(ns, name).is_none() && !self.open.contains(ns)
    }
    fn mtu(&self, ns: &str, name: &str) -> Option<u32> {
        self.get(ns, name).and_then(|d| d.mtu)
    }
    /// The devices of `ns`, for a hint.
    fn names(&self, ns: &str) -> String {
        listing(self.by_ns.get(ns).into_iter().flat_map(|m| m.keys().map(String::as_str)))
    }
}

/// Names for a hint: the first few, comma-separated.
fn listing<'a>(names: impl Iterator<Item = &'a str>) -> String {
    const SHOWN: usize = 20;
    let mut v: Vec<String> = names.take(SHOWN + 1).map(echo).collect();
    if v.len() > SHOWN {
        v.truncate(SHOWN);
        v.push("…".into());
    }
    v.join(", ")
}

fn ns_exists(name: &str) -> String {
    format!(
        "namespace `{}` is defined twice (ip netns add: Cannot create namespace file \"/run/netns/{}\": File exists)",
        echo(name),
        echo(name)
    )
}

/// `dev_valid_name` (net/core/dev.c): what the kernel refuses as an interface name.
pub fn ifname_problem(name: &str) -> Option<String> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.len() >= IFNAMSIZ {
        "it is longer than 15 bytes (IFNAMSIZ is 16, with the NUL)"
    } else if name == "." || name == ".." {
        "`.` and `..` are not names"
    } else if name.contains(['/', ':']) || name.chars().any(char::is_whitespace) {
        "it contains `/`, `:` or whitespace"
    } else {
        return None;
    };
    Some(format!("`{}` is not a valid interface name: {why} (ip link: \"name\" not a valid ifname)", echo(name)))
}

/// iproute2 `ip netns` (ip/ipnetns.c, `invalid_name`): a namespace is a file under
/// /run/netns, so its name is a file name.
fn netns_name_problem(name: &str) -> Option<String> {
    let bad = name.is_empty() || name.len() > 255 || name.contains('/') || name == "." || name == "..";
    bad.then(|| {
        format!(
            "Invalid netns name \"{}\" (a namespace name is a file name: not empty, not `.` or `..`, no `/`)",
            echo(name)
        )
    })
}

/// An MTU the kernel refuses when it creates the device (`dev_validate_mtu`, net/core/dev.c,
/// with the extack words `ip link` prints). Macvlan and VLAN devices are checked against
/// their parent instead.
fn mtu_problem(l: &Link) -> Option<String> {
    let m = l.mtu()?;
    let kind = match l {
        Link::Veth { .. } => "veth",
        Link::Bridge { .. } => "bridge",
        Link::Vxlan { .. } => "vxlan",
        Link::Macvlan { .. } => "macvlan",
        Link::Vlan { .. } => "vlan",
    };
    let name = echo(l.name());
    if m < ETH_MIN_MTU {
        Some(format!("mtu {m} on {kind} `{name}`: Error: mtu less than device minimum ({ETH_MIN_MTU})"))
    } else if m > ETH_MAX_MTU {
        Some(format!("mtu {m} on {kind} `{name}`: Error: mtu greater than device maximum ({ETH_MAX_MTU})"))
    } else {
        None
    }
}

/// Byte offset of a 1-based line and column (in characters), clamped to the text.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for _ in 1..line.max(1) {
        match text[off..].find('\n') {
            Some(nl) => off += nl + 1,
            None => return text.len(),
        }
    }
    let rest = &text[off..];
    let end = rest.find('\n').unwrap_or(rest.len());
    off + rest[..end].char_indices().nth(col.max(1) - 1).map_or(end, |(i, _)| i)
}

/// Interfaces to capture, as `namespace/interface` (`namespace/*`: every interface of one),
/// kept as names. A container's namespace appears only when its step runs, so the names are
/// resolved again whenever namespaces change (`resolve`); those that never resolved are
/// reported at the end (`missing`).
#[derive(Clone, Debug)]
pub struct CaptureNames {
    names: Vec<String>,
}

impl CaptureNames {
    pub fn parse(names: &[String]) -> Result<CaptureNames, String> {
        for n in names {
            Self::parse_one(n)?;
        }
        Ok(CaptureNames { names: names.to_vec() })
    }

    fn parse_one(n: &str) -> Result<(&str, &str), String> {
        match n.rsplit_once('/') {
            Some((ns, dev)) if !ns.is_empty() && !dev.is_empty() => Ok((ns, dev)),
            _ => Err(format!("`{}` is not namespace/interface", echo(n))),
        }
    }

    /// Adds every interface the names match now to the world's capture set (which starts
    /// empty: only what is named is captured).
    pub fn resolve(&self, w: &mut World) {
        let mut set = w.capture.take().unwrap_or_default();
        for n in &self.names {
            let Ok((ns, dev)) = Self::parse_one(n) else { continue };
            let Ok(id) = Self::namespace(w, ns) else { continue };
            if dev == "*" {
                set.extend(w.netns(id).devs.iter().copied());
            } else if let Some(d) = w.dev_by_name(id, dev) {
                set.insert(d);
            }
        }
        w.capture = Some(set);
    }

    /// The namespace a capture name means: its full name (`host1:web`), or a container's,
    /// task's or sandbox's name as `docker ps` and `ip netns` on its host show it (`web`,
    /// `webapp1.1.9wku…`, `ingress_sbox`) when one host alone has it.
    fn namespace(w: &World, name: &str) -> Result<crate::kernel::NsId, String> {
        if let Some(id) = w.ns_by_name(name) {
            return Ok(id);
        }
        let live = w.ns.iter().filter(|n| !n.dead);
        let hits: Vec<&crate::kernel::Netns> =
            live.filter(|n| n.name.split_once(':').is_some_and(|(_, s)| s == name)).collect();
        match hits.as_slice() {
            [one] => Ok(one.id),
            [] => Err(format!("no namespace `{}`", echo(name))),
            many => Err(format!(
                "`{}` is on several hosts: write one of {}",
                echo(name),
                many.iter().map(|n| format!("`{}`", n.name)).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The names that match nothing in `w`, by their index, with why.
    pub fn missing(&self, w: &World) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, n) in self.names.iter().enumerate() {
            let Ok((ns, dev)) = Self::parse_one(n) else { continue };
            match Self::namespace(w, ns) {
                Err(why) => out.push((i, format!("`{}`: {why}", echo(n)))),
                Ok(id) if dev != "*" && w.dev_by_name(id, dev).is_none() => {
                    out.push((i, format!("`{}`: namespace `{}` has no interface `{}`", echo(n), echo(ns), echo(dev))))
                }
                Ok(_) => {}
            }
        }
        out
    }
}

fn ron_hint(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        E::NoSuchStructField { .. } => "remove or rename the field; scenarios/README.md lists every field".into(),
        E::Message(m) if m.contains(crate::docker::era::UNKNOWN_VERSION) => format!(
            "the simulator models Docker Engine {}; write e.g. `engine: (version: \"20.10\")`",
            Era::SUPPORTED.map(|v| format!("\"{v}\"")).join(" and ")
        ),
        E::MissingStructField { field, .. } => format!("add `{field}: …` to this item"),
        E::NoSuchEnumVariant { .. } => "use one of the listed variants".into(),
        E::ExpectedString | E::ExpectedStringEnd => {
            "strings are in double quotes; times are strings like \"1.5s\", addresses like \"10.0.0.1/24\"".into()
        }
        E::Message(m) if m.contains("not a time") || m.contains("prefix") || m.contains("MAC") => {
            "fix the value's format".into()
        }
        _ => "RON syntax: Struct(field: value, …), lists [a, b], strings in double quotes; see scenarios/README.md"
            .into(),
    }
}

/// Whether a step runs ping without a count (on a host, through `docker exec`, or as a
/// foreground `docker run`'s command).
fn endless_ping(run: &str) -> bool {
    use crate::docker::cli::{self, AppCommand, DockerCommand};
    let app = match cli::parse(run.trim()) {
        Ok(DockerCommand::Exec(x)) => x.app_command(),
        Ok(DockerCommand::Run(r)) => r.app_command(),
        Ok(_) => None,
        Err(_) => cli::shell_words(run).ok().and_then(|w| {
            let argv = cli::Argv { words: w.into_iter().map(|(w, _)| w).collect(), spans: Vec::new() };
            cli::parse_app_command(&argv)
        }),
    };
    matches!(app, Some(Ok(AppCommand::Ping(p))) if p.count.is_none() && p.deadline.is_none())
}

/// What an instructor should know of the program a detached container or a service's tasks
/// run, as (what, help): a service's shell with no terminal ends at once, so its tasks are
/// replaced again and again (as on the engine), and a program the simulator does not run
/// stays up and prints nothing.
fn unseen_program(run: &str) -> Option<(String, String)> {
    use crate::docker::cli::{self, DockerCommand, ServiceMode};
    use crate::docker::images;
    let (image, command, tty, service) = match cli::parse(run.trim()).ok()? {
        DockerCommand::ServiceCreate(c) => {
            if matches!(c.mode, ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob) {
                return None;
            }
            let tty = c.other_flags.iter().any(|f| f.name == "tty" && f.value != "false");
            (c.image.familiar_name(), c.command.words, tty, true)
        }
        DockerCommand::Run(r) if r.detach => (r.image.familiar_name(), r.command.words, r.tty || r.interactive, false),
        _ => return None,
    };
    // An image outside the catalogue never starts (no registry): its own error says so.
    images::find(&image)?;
    if service && images::runs_for(&image, &command, tty) == Some(crate::engine::SimTime::ZERO) {
        return Some((
            format!(
                "the tasks of this service run {image}'s `{}`, which exits at once without a terminal: \
                 each task completes and is replaced after the restart delay, again and again, as on the engine",
                images::default_command(&image).join(" ")
            ),
            format!("give the service a command that stays up (`{image} sleep 1d`), or `-t` for a terminal"),
        ));
    }
    let program = command.first()?.rsplit('/').next()?.to_string();
    let argv = cli::Argv { words: command.clone(), spans: Vec::new() };
    let runs = cli::parse_app_command(&argv).is_some()
        || program == "sleep"
        || images::bare_shell(&command)
        || command.iter().eq(images::default_command(&image).iter())
        || crate::docker::engine::image_role(&image).is_some();
    (!runs).then(|| {
        (
            format!("the simulator does not run `{program}`: the container stays up and prints nothing"),
            "in a container it runs ping, curl, wget, nslookup, dig, mysql, nc, traceroute and sleep, \
             and the servers of its images (scenarios/README.md)"
                .to_string(),
        )
    })
}

/// Whether `run` is `nc -l` that holds the shell: `docker exec` without `-d`, `docker run`
/// without `-d`, or typed on a host.
fn foreground_listener(run: &str) -> bool {
    use crate::docker::cli::{self, AppCommand, DockerCommand, NcMode};
    let app = match cli::parse(run.trim()) {
        Ok(DockerCommand::Exec(x)) if !x.detach => x.app_command(),
        Ok(DockerCommand::Run(r)) if !r.detach => r.app_command(),
        Ok(_) => None,
        Err(_) => cli::shell_words(run).ok().and_then(|w| {
            let argv = cli::Argv { words: w.into_iter().map(|(w, _)| w).collect(), spans: Vec::new() };
            cli::parse_app_command(&argv)
        }),
    };
    matches!(app, Some(Ok(AppCommand::Nc(n))) if matches!(n.mode, NcMode::Listen { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"Scenario(
    name: "t",
    plan: (
        namespaces: [(name: "a"), (name: "b")],
        links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
        addresses: [
            (ns: "a", dev: "eth0", addr: "10.0.0.1/24"),
            (ns: "b", dev: "eth0", addr: "10.0.0.2/24"),
        ],
    ),
    traffic: [Ping(at: "1s", ns: "a", dst: "10.0.0.2", count: 1)],
)"#;

    #[test]
    fn optional_fields_take_plain_values_or_some() {
        let plain = OK
            .replace("(name: \"b\")", "(name: \"b\", ip_forward: true)")
            .replace("peer_ns: \"b\")", "peer_ns: \"b\", mtu: 1400)");
        let l = Loaded::from_str("t.ron", &plain).unwrap();
        assert!(matches!(l.scenario.plan.links[0], crate::plan::Link::Veth { mtu: Some(1400), .. }));
        let some = OK.replace("peer_ns: \"b\")", "peer_ns: \"b\", mtu: Some(1400))");
        let l = Loaded::from_str("t.ron", &some).unwrap();
        assert!(matches!(l.scenario.plan.links[0], crate::plan::Link::Veth { mtu: Some(1400), .. }));
    }

    #[test]
    fn loads_and_builds() {
        let l = Loaded::from_str("t.ron", OK).unwrap();
        assert!(l.build(None).is_ok());
    }

    #[test]
    fn unknown_field_points_at_line_and_col() {
        let bad = OK.replace("count: 1", "cuont: 1");
        let e = Loaded::from_str("t.ron", &bad).err().unwrap();
        assert_eq!((e.line, e.col > 1), (11, true), "{e}");
        assert!(e.to_string().starts_with("t.ron:11:"), "{e}");
        assert!(e.message.contains("cuont"), "{}", e.message);
    }

    #[test]
    fn bad_time_is_explained() {
        let bad = OK.replace("\"1s\"", "\"1 sec\"");
        let e = Loaded::from_str("t.ron", &bad).err().unwrap();
        assert!(e.message.contains("is not a time"), "{}", e.message);
        assert_eq!(e.line, 11);
    }

    #[test]
    fn unknown_namespace_in_a_link_names_the_token_location() {
        let bad = OK.replace("peer_ns: \"b\"", "peer_ns: \"c\"");
        let e = Loaded::from_str("t.ron", &bad).err().unwrap();
        assert!(e.message.contains("no namespace `c`"), "{}", e.message);
        assert_eq!((e.line, &bad[..]).0, 5);
        assert_eq!(e.col, bad.lines().nth(4).unwrap().find("\"c\"").unwrap() + 1);
    }

    /// The error's source line, cut to what miette was handed.
    fn render(e: &ScenarioError) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, e)
            .unwrap();
        let mut narr = String::new();
        miette::NarratableReportHandler::new().render_report(&mut narr, e).unwrap();
        out + &narr
    }

    fn lines_of(e: &ScenarioError) -> Vec<(usize, usize)> {
        e.all().map(|x| (x.line, x.col)).collect()
    }

    const TWO_ETH0: &str = r#"Scenario(
    name: "t",
    plan: (
        namespaces: [(name: "a"), (name: "b")],
        links: [Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b")],
        addresses: [
            (ns: "a", dev: "eth0", addr: "10.0.0.1/24"),
            (ns: "b", dev: "eth0", addr: "10.0.0.2/24"),
            (ns: "b", dev: "eth0", addr: "10.0.0.3/24"),
            (ns: "b", dev: "eth0", addr: "10.0.0.4/24"),
            (ns: "a", dev: "eth0", addr: "10.0.0.1/24"),
        ],
    ),
)"#;

    #[test]
    fn a_duplicate_address_is_reported_where_it_is_duplicated() {
        let e = Loaded::from_str("t.ron", TWO_ETH0).err().unwrap();
        assert_eq!(lines_of(&e), [(11, 42)], "{}", render(&e));
        assert!(e.message.contains("RTNETLINK answers: File exists"), "{}", e.message);
        assert!(e.to_string().starts_with("t.ron:11:42: address 10.0.0.1/24 is already on `eth0`"), "{e}");
    }

    #[test]
    fn every_error_of_a_file_is_reported_at_its_own_line() {
        let bad =
            TWO_ETH0.replace("peer: \"eth0\", peer_ns: \"b\")", "peer: \"eth0\", peer_ns: \"b\", mtu: 70000)").replace(
                "(ns: \"b\", dev: \"eth0\", addr: \"10.0.0.3/24\")",
                "(ns: \"c\", dev: \"eth0\", addr: \"10.0.0.3/24\")",
            );
        let e = Loaded::from_str("t.ron", &bad).err().unwrap();
        let lines: Vec<usize> = e.all().map(|x| x.line).collect();
        assert_eq!(lines, [5, 9, 11], "{}", render(&e));
        assert!(e.message.contains("Error: mtu greater than device maximum (65535)"), "{}", e.message);
        assert!(e.others[0].message.contains("no namespace `c`"), "{}", e.others[0].message);
        let shown = render(&e);
        for at in ["t.ron:5:", "t.ron:9:", "t.ron:11:"] {
            assert!(shown.contains(at), "{at} missing from:\n{shown}");
        }
    }

    #[test]
    fn mtus_the_kernel_refuses_are_refused_at_load() {
        for (mtu, ok) in
            [(0, false), (67, false), (68, true), (1500, true), (65535, true), (65536, false), (70000, false)]
        {
            let text = OK.replace("peer_ns: \"b\")", &format!("peer_ns: \"b\", mtu: {mtu})"));
            let r = Loaded::from_str("t.ron", &text);
            assert_eq!(r.is_ok(), ok, "mtu {mtu}");
            if let Err(e) = r {
                let col = text.lines().nth(4).unwrap().find(&format!("{mtu})")).unwrap() + 1;
                assert_eq!((e.line, e.col), (5, col), "mtu {mtu}: {e}");
                let words = if mtu < 68 { "less than device minimum" } else { "greater than device maximum" };
                assert!(e.message.contains(words), "{e}");
            }
        }
        // A VLAN device cannot be larger than its parent.
        let vlan = OK.replace(
            "peer_ns: \"b\")]",
            "peer_ns: \"b\"), Vlan(name: \"eth0.5\", ns: \"a\", parent: \"eth0\", id: 5, mtu: 1600)]",
        );
        let e = Loaded::from_str("t.ron", &vlan).err().unwrap();
        assert!(e.message.contains("above its parent `eth0`'s 1500"), "{e}");
        let stacked = OK.replace(
            "peer_ns: \"b\")]",
            "peer_ns: \"b\"), Vxlan(name: \"vx0\", ns: \"a\", vni: 5, mtu: 1400), Macvlan(name: \"mv0\", ns: \"a\", parent: \"vx0\", mtu: 1450)]",
        );
        let e = Loaded::from_str("t.ron", &stacked).err().unwrap();
        assert!(e.message.contains("above its parent `vx0`'s 1400"), "{e}");
        assert!(Loaded::from_str("t.ron", &stacked.replace("mtu: 1450", "mtu: 1400")).is_ok());
    }

    #[test]
    fn bridge_port_flags_need_a_bridge_port_and_one_entry_each() {
        let lab = |ports: &str| {
            format!(
                r#"Scenario(name: "t", plan: (
    namespaces: [(name: "a"), (name: "b")],
    links: [Bridge(name: "br0", ns: "a"), Veth(name: "eth0", ns: "a", peer: "eth0", peer_ns: "b", master: "br0")],
    bridge_ports: [{ports}],
))"#
            )
        };
        assert!(Loaded::from_str("t.ron", &lab(r#"(ns: "a", dev: "eth0", hairpin: true)"#)).is_ok());
        let e = Loaded::from_str(
            "t.ron",
            &lab(r#"(ns: "b", dev: "eth0"), (ns: "a", dev: "eth0"), (ns: "a", dev: "eth0", isolated: true), (ns: "a", dev: "eth9")"#),
        )
        .err()
        .unwrap();
        let all: Vec<(String, usize)> = e.all().map(|e| (e.message.clone(), e.col)).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].0.contains("`eth0` in `b` is not a bridge port (RTNETLINK answers: Operation not supported)"));
        assert!(all[1].0.contains("has its port flags given already"), "{all:?}");
        assert!(all[2].0.contains("no device `eth9` in `a`"), "{all:?}");
    }

    #[test]
    fn interface_names_the_kernel_refuses_are_refused_at_load() {
        for name in [".", "..", "", "a/b", "a:b", "a b", "sixteen-bytes-xx"] {
            let text = OK.replace("peer: \"eth0\"", &format!("peer: {name:?}"));
            let e = Loaded::from_str("t.ron", &text).err().unwrap_or_else(|| panic!("`{name}` accepted"));
            assert!(e.message.contains("is not a valid interface name"), "{name}: {e}");
            assert_eq!(e.line, 5, "{e}");
        }
        for name in ["fifteen-bytes-x", "eth0.10", "veth-ab_1"] {
            let text = OK
                .replace("peer: \"eth0\"", &format!("peer: {name:?}"))
                .replace("(ns: \"b\", dev: \"eth0\"", &format!("(ns: \"b\", dev: {name:?}"));
            assert!(Loaded::from_str("t.ron", &text).is_ok(), "`{name}` refused");
        }
    }

    #[test]
    fn ping_sizes_and_counts_beyond_the_limits_are_refused_at_their_field() {
        let with = |f: &str| OK.replace("count: 1)", &format!("count: 1, {f})"));
        assert!(Loaded::from_str("t.ron", &with("size: 65507")).is_ok());
        for f in ["size: 65508", "size: 18446744073709551615", "size: 4294967295"] {
            let e = Loaded::from_str("t.ron", &with(f)).err().unwrap();
            assert!(e.message.contains("packet size") && e.message.contains("Maximum is 65507"), "{e}");
            assert_eq!(e.line, 11);
        }
        let e = Loaded::from_str("t.ron", &OK.replace("count: 1", "count: 4294967295")).err().unwrap();
        assert!(e.message.contains("count 4294967295"), "{e}");
        let e = Loaded::from_str("t.ron", &OK.replace("count: 1", "count: 0")).err().unwrap();
        assert!(e.message.contains("out of range: 1 <="), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_positions_stay_right() {
        let with_bom = format!("\u{feff}{OK}");
        assert!(Loaded::from_str("t.ron", &with_bom).is_ok());
        let e = Loaded::from_str("t.ron", &with_bom.replace("count: 1", "cuont: 1")).err().unwrap();
        let plain = Loaded::from_str("t.ron", &OK.replace("count: 1", "cuont: 1")).err().unwrap();
        assert_eq!((e.line, e.col), (plain.line, plain.col));
        let e = Loaded::from_str("t.ron", &format!("\u{feff}{TWO_ETH0}")).err().unwrap();
        assert_eq!(lines_of(&e), [(11, 42)]);
    }

    #[test]
    fn an_error_on_a_huge_line_shows_a_window_of_it() {
        let filler = "x".repeat(50 << 20);
        let text = OK
            .replace("description", "")
            .replace("name: \"t\",", &format!("name: \"t\", description: \"{filler}\", seeed: 1,"));
        let e = Loaded::from_str("t.ron", &text).err().unwrap();
        assert_eq!(e.line, 2);
        let shown = render(&e);
        assert!(shown.len() < 4000, "{} bytes shown", shown.len());
        assert!(shown.contains("seeed"), "{shown}");
        // The header gives the column in the file, not in the window.
        assert!(shown.contains(&format!("t.ron:2:{}", e.col)), "{shown}");
    }

    #[test]
    fn a_label_tens_of_thousands_of_columns_wide_does_not_panic_the_printer() {
        let wide = "y".repeat(65_535);
        for text in [
            OK.replace("eth0\", ns: \"a\", peer", &format!("{wide}\", ns: \"a\", peer")),
            OK.replace("name: \"t\",", &format!("name: \"t\", sed: \"{wide}\",")),
            format!("{wide}{OK}"),
        ] {
            let e = Loaded::from_str("t.ron", &text).err().unwrap();
            let shown = render(&e);
            assert!(shown.len() < 4000, "{} bytes shown", shown.len());
        }
    }

    /// A container or a service's task whose program the simulator does not run stays up and
    /// prints nothing, and a service of plain alpine is replaced again and again (its shell
    /// exits at once): each is a warning at its step. What the simulator runs, a command
    /// that stays up, `-t`, a job and a server's image are not.
    #[test]
    fn a_program_the_simulator_does_not_run_is_a_warning_at_its_step() {
        let text = r#"Scenario(
    name: "programs",
    hosts: [(name: "h1", addr: "192.168.99.101/24")],
    steps: [
        (on: "h1", run: "docker run -d --name c1 alpine sh -c 'echo hi'"),
        (on: "h1", run: "docker run -d --name c2 alpine sleep 5"),
        (on: "h1", run: "docker run -d --name c3 alpine ping -c 1 127.0.0.1"),
        (on: "h1", run: "docker run -d --name web nginx"),
        (on: "h1", run: "docker swarm init --advertise-addr 192.168.99.101"),
        (on: "h1", run: "docker service create --name s1 alpine"),
        (on: "h1", run: "docker service create --name s2 -t alpine"),
        (on: "h1", run: "docker service create --name s3 alpine sleep 1d"),
        (on: "h1", run: "docker service create --name s4 --mode replicated-job alpine"),
        (on: "h1", run: "docker service create --name s5 alpine top"),
    ],
)"#;
        let l = Loaded::from_str("p.ron", text).expect("loads");
        let got: Vec<(usize, &str)> = l.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(got[0].0, 5);
        assert!(got[0].1.contains("does not run `sh`"), "{got:#?}");
        assert_eq!(got[1].0, 10);
        assert!(got[1].1.contains("alpine's `/bin/sh`, which exits at once without a terminal"), "{got:#?}");
        assert_eq!(got[2].0, 14);
        assert!(got[2].1.contains("does not run `top`"), "{got:#?}");
    }

    /// Real ping without `-c` runs until Ctrl-C; the lab stops it after 4 echoes and says so
    /// at the step, wherever the ping runs (host, `docker exec`, a foreground `docker run`).
    #[test]
    fn ping_without_a_count_is_a_warning_that_says_what_the_lab_does() {
        let text = r#"Scenario(
    name: "pings",
    hosts: [(name: "h1", addr: "192.168.99.101/24"), (name: "h2", addr: "192.168.99.102/24")],
    steps: [
        (on: "h1", run: "ping 192.168.99.102"),
        (on: "h1", run: "ping -c 2 192.168.99.102"),
        (on: "h1", run: "docker run -d --name web nginx"),
        (on: "h1", run: "docker exec web ping -q 172.17.0.1"),
        (on: "h1", run: "docker run --rm alpine ping 172.17.0.2"),
        (on: "h1", run: "docker exec web ping -c1 172.17.0.1"),
    ],
)"#;
        let l = Loaded::from_str("p.ron", text).expect("loads");
        let got: Vec<usize> = l.warnings.iter().map(|w| w.line).collect();
        assert_eq!(got, [5, 8, 9], "{:#?}", l.warnings);
        assert!(l.warnings.iter().all(|w| w.message.contains("runs until it is interrupted")));
        // What the warning says the lab does, it does: four echoes from the endless ping on
        // h1, two from the counted one.
        let mut sim = l.build(None).unwrap();
        sim.run_until(crate::Until::Idle);
        let out = sim.app_output();
        let h1: Vec<&str> = out.iter().filter(|(ns, _)| ns == "h1").map(|(_, l)| l.as_str()).collect();
        assert_eq!(h1.iter().filter(|l| l.starts_with("64 bytes from 192.168.99.102")).count(), 6, "{h1:#?}");
    }

    #[test]
    fn a_failing_step_is_a_warning_at_its_own_run_string_and_the_lab_goes_on() {
        let text = r#"Scenario(
    name: "steps",
    hosts: [(name: "h1", addr: "192.168.99.101/24")],
    steps: [
        (on: "h1", run: "docker network create appnet"),
        (on: "h1", run: "docker network create appnet"),
        (on: "h1", run: "docker run -d --name web --network appnet nginx"),
        (on: "h1", run: "docker run -d --name web2 --network nosuchnet nginx"),
        (on: "h1", run: "docker exec web ping -c 1 web"),
    ],
)"#;
        let l = Loaded::from_str("s.ron", text).expect("failing steps do not stop the file");
        let got: Vec<(usize, &str)> = l.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0].0, 6);
        assert!(got[0].1.contains("network with name appnet already exists"), "{}", got[0].1);
        assert_eq!(got[1].0, 8);
        assert!(got[1].1.contains("nosuchnet"), "{}", got[1].1);
        // The word the daemon complains about is the one pointed at.
        let line8 = text.lines().nth(7).unwrap();
        assert_eq!(l.warnings[1].col, line8.find("nosuchnet").unwrap() + 1);
        assert!(l.warnings[1].help.as_deref().unwrap_or_default().contains("exit status 125"), "{:?}", l.warnings[1]);

        // The run shows each failure with its exit status, and the steps after them run.
        let mut sim = l.build(None).unwrap();
        sim.run_until(crate::Until::Idle);
        let d = sim.director.as_ref().unwrap();
        let statuses: Vec<u8> = d.transcript.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [0, 1, 0, 125, 0]);
        let out = sim.app_output();
        assert!(out.iter().any(|(ns, l)| ns == "h1" && l == "  (exit status 125)"), "{out:#?}");
        // iputils pings a name: the reply's source is named (`x.appnet (172.18.0.2)`).
        assert!(
            out.iter().any(|(ns, l)| ns == "h1:web" && l.starts_with("64 bytes from ") && l.contains("(172.18.0.2)")),
            "{out:#?}"
        );

        // Marked as the lesson, the failures warn no more; a marked step that succeeds does,
        // at load for a command and in the run for a program (its outcome comes then).
        let marked = text
            .replace(
                "create appnet\"),\n        (on: \"h1\", run: \"docker network create appnet\")",
                "create appnet\"),\n        (on: \"h1\", run: \"docker network create appnet\", fails: true)",
            )
            .replace("nosuchnet nginx\")", "nosuchnet nginx\", fails: true)")
            .replace("ping -c 1 web\")", "ping -c 1 web\", fails: true)");
        let l = Loaded::from_str("s.ron", &marked).unwrap();
        assert!(l.warnings.is_empty(), "{:#?}", l.warnings);
        let mut sim = l.build(None).unwrap();
        sim.run_until(crate::Until::Idle);
        let out = sim.app_output();
        let said = |l: &str| l == "  (marked `fails: true`, but the program exited 0)";
        assert_eq!(out.iter().filter(|(ns, l)| ns == "h1" && said(l)).count(), 1, "{out:#?}");
        let first = marked.replacen(
            "run: \"docker network create appnet\")",
            "run: \"docker network create appnet\", fails: true)",
            1,
        );
        let l = Loaded::from_str("s.ron", &first).unwrap();
        let got: Vec<(usize, &str)> = l.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert_eq!(got, [(5, "this step is marked `fails: true` but succeeds")]);

        // A step on a host the file does not have is the file's own mistake.
        let e = Loaded::from_str(
            "s.ron",
            &text.replace("(on: \"h1\", run: \"docker exec", "(on: \"h2\", run: \"docker exec"),
        )
        .err()
        .unwrap();
        assert_eq!((e.line, e.all().count()), (9, 1), "{e}");
        assert!(e.message.contains("no host `h2`"), "{e}");
    }

    #[test]
    fn a_file_with_thousands_of_errors_lists_the_first_hundred_and_counts_the_rest() {
        let many: String = (0..20_000)
            .map(|i| format!("            (ns: \"a\", dev: \"eth{i}\", addr: \"10.0.0.1/24\"),\n"))
            .collect();
        let text = OK.replace("        addresses: [\n", &format!("        addresses: [\n{many}"));
        let e = Loaded::from_str("t.ron", &text).err().unwrap();
        assert_eq!(e.all().count(), MAX_REPORTED);
        assert_eq!(e.line, 8, "{e}");
        let last = e.others.last().unwrap();
        assert!(last.help.as_deref().unwrap_or("").contains("19900 more error(s) not listed"), "{:?}", last.help);
        // The hint lists a few of the namespace's devices, not all.
        assert!(e.help.as_deref().unwrap_or("").len() < 200, "{:?}", e.help);
    }

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let e = Loaded::from_file(Path::new("/dev/zero")).err().unwrap();
        assert!(e.message.contains("not a regular file"), "{e}");
        let e = Loaded::from_file(Path::new("/")).err().unwrap();
        assert!(e.message.contains("directory"), "{e}");
        let big = std::env::temp_dir().join(format!("netsim-big-{}.ron", std::process::id()));
        std::fs::write(&big, vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        let e = Loaded::from_file(&big).err().unwrap();
        std::fs::remove_file(&big).unwrap();
        assert!(e.message.contains("larger than 8 MiB"), "{e}");
        let latin1 = std::env::temp_dir().join(format!("netsim-latin1-{}.ron", std::process::id()));
        std::fs::write(&latin1, b"Scenario(\n  name: \"caf\xe9\",\n)").unwrap();
        let e = Loaded::from_file(&latin1).err().unwrap();
        std::fs::remove_file(&latin1).unwrap();
        assert_eq!((e.line, e.col), (2, 13), "{e}");
        assert!(e.message.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn garbage_never_panics() {
        for cut in 0..OK.len() {
            let _ = Loaded::from_str("t.ron", &OK[..cut]).map(|l| l.build(None).is_ok());
        }
    }

    /// A quiz asked at a step far beyond the file's (a typo of many digits) is an error at
    /// once, not a count up to that number (the scenario fuzzer found it taking minutes).
    #[test]
    fn a_huge_at_step_is_refused_at_once() {
        let text = r#"Scenario(
    name: "q",
    hosts: [(name: "h", addr: "192.168.1.2/24")],
    steps: [(on: "h", run: "ip addr")],
    quiz: [(name: "x", at_step: 18446744073709551615, ask: Choice(question: "?", choices: ["a", "b"], answer: 1))],
)"#;
        let e = Loaded::from_str("q.ron", text).err().expect("at_step beyond the steps");
        assert!(e.message.contains("the file has 1 step(s)"), "{e}");
    }
}
