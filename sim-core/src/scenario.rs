//! Scenario files (RON): a kernel plan plus timed traffic, as instructors write them.
//!
//! Errors never panic: a RON syntax or type error, an unknown name, an address on a missing
//! device, all come back as one `ScenarioError` that names file:line:col, shows the line
//! (through miette) and gives a hint.

use std::collections::HashSet;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceOffset, SourceSpan};
use serde::{Deserialize, Serialize};

use crate::apps::Traffic;
use crate::director::{Director, HostSpec, Step};
pub use crate::docker::era::{EngineSpec, Era};
use crate::engine::SimTime;
use crate::plan::Plan;
use crate::sim::Sim;
use crate::world::World;

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
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{col}: {message}")]
pub struct ScenarioError {
    pub message: String,
    pub file: String,
    pub line: usize,
    pub col: usize,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    pub help: Option<String>,
}

impl ScenarioError {
    #[allow(clippy::too_many_arguments)]
    fn at(
        file: &str,
        text: &str,
        line: usize,
        col: usize,
        len: usize,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Self {
        let off = SourceOffset::from_location(text, line.max(1), col.max(1));
        let len = len.clamp(1, text.len().saturating_sub(off.offset()).max(1));
        ScenarioError {
            message,
            file: file.to_string(),
            line,
            col,
            src: NamedSource::new(file, text.to_string()),
            span: Some(SourceSpan::new(off, len)),
            label: label.to_string(),
            help,
        }
    }

    /// An error about a value: points at the first place the file spells it.
    fn about(file: &str, text: &str, token: &str, message: String, help: Option<String>) -> Self {
        let quoted = format!("\"{token}\"");
        let pos = text
            .find(&quoted)
            .map(|p| (p, quoted.len()))
            .or_else(|| (!token.is_empty()).then(|| text.find(token).map(|p| (p, token.len()))).flatten());
        let (line, col, len) = match pos {
            Some((p, len)) => {
                let before = &text[..p];
                let line = before.matches('\n').count() + 1;
                let col = before.rfind('\n').map_or(p, |nl| p - nl - 1) + 1;
                (line, col, len)
            }
            None => (1, 1, 1),
        };
        Self::at(file, text, line, col, len, message, "here", help)
    }
}

/// A scenario read from a file, with its source kept for later diagnostics.
pub struct Loaded {
    pub scenario: Scenario,
    pub file: String,
    pub text: String,
}

impl Loaded {
    pub fn from_file(path: &Path) -> Result<Loaded, Box<ScenarioError>> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Box::new(ScenarioError {
                message: format!("cannot read the scenario file: {e}"),
                file: file.clone(),
                line: 0,
                col: 0,
                src: NamedSource::new(&file, String::new()),
                span: None,
                label: String::new(),
                help: Some("check the path; shipped scenarios are under scenarios/".into()),
            })
        })?;
        Self::from_str(&file, &text)
    }

    pub fn from_str(file: &str, text: &str) -> Result<Loaded, Box<ScenarioError>> {
        // `field: "x"` for optional fields, without `Some(…)`: friendlier for instructors.
        let opts = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let scenario: Scenario = opts.from_str(text).map_err(|e| {
            let help = ron_hint(&e.code);
            let (s, end) = (e.span.start, e.span.end);
            let len = if end.line == s.line && end.col > s.col { end.col - s.col } else { 1 };
            Box::new(ScenarioError::at(file, text, s.line, s.col, len, e.code.to_string(), "here", Some(help)))
        })?;
        let loaded = Loaded { scenario, file: file.to_string(), text: text.to_string() };
        loaded.validate()?;
        Ok(loaded)
    }

    fn err(&self, token: &str, message: String, help: Option<String>) -> Box<ScenarioError> {
        Box::new(ScenarioError::about(&self.file, &self.text, token, message, help))
    }

    fn validate(&self) -> Result<(), Box<ScenarioError>> {
        let mut names: HashSet<&str> = self.scenario.plan.namespaces.iter().map(|n| n.name.as_str()).collect();
        names.extend(self.scenario.hosts.iter().map(|h| h.name.as_str()));
        let d = self.director()?;
        d.check().map_err(|e| self.step_err(e.index, &e.message))?;
        for t in &self.scenario.traffic {
            if !names.contains(t.ns()) {
                return Err(self.err(
                    t.ns(),
                    format!("traffic step runs in namespace `{}`, which the plan does not define", t.ns()),
                    Some(format!("namespaces are: {}", sorted(&names))),
                ));
            }
        }
        Ok(())
    }

    fn director(&self) -> Result<Director, Box<ScenarioError>> {
        self.director_seeded(self.scenario.seed)
    }

    fn director_seeded(&self, seed: u64) -> Result<Director, Box<ScenarioError>> {
        let s = &self.scenario;
        Director::with_engine(&s.hosts, &s.steps, &s.plan, seed, s.engine).map_err(|m| {
            let tok =
                s.hosts.iter().map(|h| h.name.as_str()).find(|n| m.contains(&format!("`{n}`"))).unwrap_or("hosts");
            self.err(tok, m, Some("each host needs its own name".into()))
        })
    }

    /// An error in step `index`: points into its `run` string, at the offending word when
    /// the command parser says which one.
    fn step_err(&self, index: usize, message: &str) -> Box<ScenarioError> {
        let step = &self.scenario.steps[index];
        let help = Some(format!("step {} (on `{}`): `{}`", index + 1, step.on, step.run));
        // The index-th `run:` field of the file is this step's (comments and strings skipped).
        let Some((q, close)) = string_fields(&self.text, "run").get(index).copied() else {
            return self.err(&step.run, message.to_string(), help);
        };
        let raw = &self.text[q..close];
        let word = step.run.split_whitespace().find(|w| {
            message.contains(w.trim_matches('"')) && w.len() > 1 && !["docker", "network", "run"].contains(w)
        });
        // Offsets are found in the file's own text, so escapes and non-ASCII stay aligned.
        let (off, len) = match word.and_then(|w| raw.find(w).map(|i| (i, w.len()))) {
            Some((i, n)) => (q + i, n),
            None => (q, raw.len()),
        };
        let before = &self.text[..off];
        let line = before.matches('\n').count() + 1;
        let col = before[before.rfind('\n').map_or(0, |nl| nl + 1)..].chars().count() + 1;
        Box::new(ScenarioError::at(&self.file, &self.text, line, col, len, message.to_string(), "this step", help))
    }

    /// Builds the world and the engine, ready to run.
    pub fn build(&self, seed: Option<u64>) -> Result<Sim, Box<ScenarioError>> {
        let seed = seed.unwrap_or(self.scenario.seed);
        let director = self.director_seeded(seed)?;
        let mut w = World::from_plan(&director.plan, seed)
            .map_err(|e| self.err(&e.token, e.message, Some("see scenarios/README.md for the plan's fields".into())))?;
        for t in &self.scenario.traffic {
            w.add_traffic(t).map_err(|m| self.err(t.ns(), m, None))?;
        }
        if let Some(cap) = &self.scenario.capture {
            w.capture = Some(resolve_ifaces(&w, cap).map_err(|(tok, m)| {
                self.err(&tok, m, Some("write interfaces as namespace/interface, e.g. host/br0".into()))
            })?);
        }
        Ok(Sim::with_director(w, director))
    }
}

/// `ns/dev` names to device ids; `ns/*` means every device of the namespace.
pub fn resolve_ifaces(w: &World, names: &[String]) -> Result<HashSet<crate::world::DevId>, (String, String)> {
    let mut out = HashSet::new();
    for n in names {
        let Some((ns, dev)) = n.split_once('/') else {
            return Err((n.clone(), format!("`{n}` is not namespace/interface")));
        };
        let nsid = w.ns_by_name(ns).ok_or_else(|| (n.clone(), format!("`{n}`: no namespace `{ns}`")))?;
        if dev == "*" {
            out.extend(w.netns(nsid).devs.iter().copied());
            continue;
        }
        let d = w
            .dev_by_name(nsid, dev)
            .ok_or_else(|| (n.clone(), format!("`{n}`: namespace `{ns}` has no interface `{dev}`")))?;
        out.insert(d);
    }
    Ok(out)
}

fn sorted(s: &HashSet<&str>) -> String {
    let mut v: Vec<&str> = s.iter().copied().collect();
    v.sort();
    v.join(", ")
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

/// Byte ranges of the string values of every `name: "…"` field in a RON text, in order,
/// skipping comments and the insides of other strings.
fn string_fields(text: &str, name: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Where the last string literal started and ended, to pair `name:` with its value.
    let mut pending = false;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if pending {
                    out.push((start, i.min(b.len())));
                    pending = false;
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let mut j = i;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                pending = &text[start..i] == name && b.get(j) == Some(&b':');
            }
            _ => i += 1,
        }
    }
    out
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
        let l = Loaded::from_str("t.ron", &bad).unwrap();
        let e = l.build(None).err().unwrap();
        assert!(e.message.contains("no namespace `c`"), "{}", e.message);
        assert_eq!(e.line, 5);
    }

    #[test]
    fn garbage_never_panics() {
        for cut in 0..OK.len() {
            let _ = Loaded::from_str("t.ron", &OK[..cut]).map(|l| l.build(None).is_ok());
        }
    }
}
