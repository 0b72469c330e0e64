//! What a run puts on the machine, written down before it is made, so that clean-up (the
//! run's own, on a signal, or `netsim clean` after a crash) removes what netsim made and
//! nothing else: a namespace whose name merely starts with `nsim-` is not netsim's.
//!
//! One folder per run, `/run/netsim/<run id>/`, holding `record`, one item a line:
//! - `owner PID START`: the process of the run;
//! - `netns NAME`: a namespace, written once `/run/netns/NAME` was claimed with `O_EXCL`
//!   (so it is ours) and before the namespace is mounted there;
//! - `agent PID START`: a process the run started inside one of its namespaces.
//!
//! START is the process's start time (field 22 of `/proc/PID/stat`, proc(5)): with it, a pid
//! the kernel has since handed to another process is not mistaken for the run's. `/run` is a
//! tmpfs, so a reboot takes the record along with the namespaces it lists.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where runs keep their records.
pub const RECORD_DIR: &str = "/run/netsim";
const RECORD: &str = "record";

/// A process, told apart from a later one with the same pid by its start time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub start: u64,
}

impl Proc {
    /// The process `pid` as it is now, if it exists.
    pub fn of(pid: i32) -> Option<Proc> {
        stat(pid).map(|(_, start)| Proc { pid, start })
    }

    pub fn current() -> Option<Proc> {
        Proc::of(std::process::id() as i32)
    }

    /// Whether this very process still runs (a zombie has finished: it only waits to be
    /// reaped).
    pub fn alive(&self) -> bool {
        matches!(stat(self.pid), Some((state, start)) if start == self.start && state != 'Z' && state != 'X')
    }
}

/// (state, start time) from `/proc/PID/stat`. The command name (field 2) may hold spaces and
/// parentheses, so the fields are counted from the last `)`.
fn stat(pid: i32) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.get(s.rfind(')')? + 1..)?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    // `state` is field 3; `starttime` is field 22.
    let start = f.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// The record of a live run (this process's), appended to as the run makes things.
#[derive(Debug)]
pub struct Record {
    dir: PathBuf,
}

impl Record {
    /// Starts the record of run `run_id`, owned by this process. Fails if the run id is taken
    /// (a live run, or a dead one whose leftovers `netsim clean` has not removed yet).
    pub fn create(run_id: &str) -> std::io::Result<Record> {
        Record::create_in(Path::new(RECORD_DIR), run_id)
    }

    fn create_in(base: &Path, run_id: &str) -> std::io::Result<Record> {
        std::fs::create_dir_all(base)?;
        let dir = base.join(run_id);
        std::fs::create_dir(&dir)?;
        let rec = Record { dir };
        let me = Proc::current().ok_or_else(|| std::io::Error::other("cannot read /proc/self/stat"))?;
        if let Err(e) = rec.append(&format!("owner {} {}", me.pid, me.start)) {
            rec.remove();
            return Err(e);
        }
        Ok(rec)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn append(&self, line: &str) -> std::io::Result<()> {
        let mut f: File = OpenOptions::new().create(true).append(true).open(self.dir.join(RECORD))?;
        f.write_all(format!("{line}\n").as_bytes())
    }

    pub fn add_namespace(&self, name: &str) -> std::io::Result<()> {
        self.append(&format!("netns {name}"))
    }

    pub fn add_agent(&self, pid: u32) -> std::io::Result<()> {
        // The agent may already be gone (a client that failed at once): nothing to record.
        match Proc::of(pid as i32) {
            Some(p) => self.append(&format!("agent {} {}", p.pid, p.start)),
            None => Ok(()),
        }
    }

    /// Forgets the run (its namespaces are gone).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A run's record as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: String,
    pub dir: PathBuf,
    pub owner: Proc,
    pub namespaces: Vec<String>,
    pub agents: Vec<Proc>,
}

/// Reads `dir/record`. A line that is not one of ours is an error naming the file and line:
/// nothing is removed on the word of a record that cannot be read whole.
pub fn read(dir: &Path) -> Result<RunRecord, String> {
    let run_id = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let path = dir.join(RECORD);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let own_prefix = format!("{}{run_id}-", crate::realise::PREFIX);
    let mut owner = None;
    let mut rec = RunRecord {
        run_id,
        dir: dir.to_path_buf(),
        owner: Proc { pid: 0, start: 0 },
        namespaces: vec![],
        agents: vec![],
    };
    for (i, line) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), i + 1);
        let words: Vec<&str> = line.split(' ').collect();
        let proc_of = |w: &[&str]| -> Result<Proc, String> {
            match w {
                [pid, start] => match (pid.parse::<i32>(), start.parse::<u64>()) {
                    (Ok(pid), Ok(start)) if pid > 0 => Ok(Proc { pid, start }),
                    _ => Err(format!("{}: `{line}`: expected a pid and a start time", at())),
                },
                _ => Err(format!("{}: `{line}`: expected a pid and a start time", at())),
            }
        };
        match words.split_first() {
            Some((&"owner", w)) => owner = Some(proc_of(w)?),
            Some((&"agent", w)) => rec.agents.push(proc_of(w)?),
            Some((&"netns", [name])) => {
                // Only this run's names, and only plain file names under /run/netns.
                let plain = !name.contains('/') && name.len() <= crate::realise::MAX_NAME;
                if !name.starts_with(&own_prefix) || !plain {
                    return Err(format!("{}: namespace `{name}` is not one run `{}` could make", at(), rec.run_id));
                }
                if !rec.namespaces.iter().any(|n| n == name) {
                    rec.namespaces.push(name.to_string());
                }
            }
            _ => return Err(format!("{}: `{line}` is not a line of a netsim run record", at())),
        }
    }
    rec.owner = owner.ok_or_else(|| format!("{}: no `owner` line", path.display()))?;
    Ok(rec)
}

/// Every run record on the machine, in run id order: each one read, or why it cannot be.
pub fn all() -> std::io::Result<Vec<(PathBuf, Result<RunRecord, String>)>> {
    all_in(Path::new(RECORD_DIR))
}

fn all_in(base: &Path) -> std::io::Result<Vec<(PathBuf, Result<RunRecord, String>)>> {
    let entries = match std::fs::read_dir(base) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs.into_iter().map(|d| (d.clone(), read(&d))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nsim-record-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_record_reads_back_what_was_written() {
        let base = tmp("rw");
        let r = Record::create_in(&base, "r1").expect("record");
        r.add_namespace("nsim-r1-a").expect("ns");
        r.add_namespace("nsim-r1-b").expect("ns");
        r.add_agent(std::process::id()).expect("agent");
        let back = read(r.dir()).expect("reads");
        let me = Proc::current().expect("self");
        assert_eq!(back.run_id, "r1");
        assert_eq!(back.owner, me);
        assert!(back.owner.alive());
        assert_eq!(back.namespaces, ["nsim-r1-a", "nsim-r1-b"]);
        assert_eq!(back.agents, [me]);
        // The run id is taken while the record exists.
        let again = Record::create_in(&base, "r1").unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(all_in(&base).expect("list").len(), 1);
        r.remove();
        assert!(all_in(&base).expect("list").is_empty());
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn a_reused_pid_or_a_finished_process_is_not_the_run() {
        let me = Proc::current().expect("self");
        assert!(me.alive());
        assert!(!Proc { start: me.start + 1, ..me }.alive(), "same pid, other start time: another process");
        let mut child = std::process::Command::new("true").spawn().expect("true runs");
        let p = Proc::of(child.id() as i32);
        child.wait().expect("reaped");
        if let Some(p) = p {
            assert!(!p.alive());
        }
    }

    #[test]
    fn a_record_naming_what_is_not_its_own_is_refused() {
        let base = tmp("bad");
        for (body, want) in [
            ("owner 1 2\nnetns nsim-foreign\n", "namespace `nsim-foreign` is not one run `r2` could make"),
            ("owner 1 2\nnetns nsim-r2-../../etc\n", "is not one run `r2` could make"),
            ("owner 1 2\nnetns /run/netns/x\n", "is not one run `r2` could make"),
            ("owner x 2\n", "record:1: `owner x 2`: expected a pid and a start time"),
            ("netns nsim-r2-a\n", "no `owner` line"),
            ("owner 1 2\nrm -rf /\n", "record:2: `rm -rf /` is not a line of a netsim run record"),
        ] {
            let dir = base.join("r2");
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(dir.join(RECORD), body).expect("write");
            let e = read(&dir).unwrap_err();
            assert!(e.contains(want), "{body:?}: {e}");
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
