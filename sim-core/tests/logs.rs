//! A container whose process is a program, and `docker logs`, in the simulator as on Docker
//! Engine 20.10.24 (`traces/docker/logs/record.txt`, made by `record.sh` beside it): a
//! detached `ping` runs in its container, prints into the container's log rather than the
//! shell, and its end stops the container with its exit status; `docker logs` shows what it
//! printed so far, `--tail`/`-n` the last lines; a foreground run's output is its log too; a
//! command line the program refuses is the log of a container that exited 1; `sleep`
//! prints nothing; a container that does not exist is the daemon's error.
//!
//! Round trips are compared as `T`: the simulator's clock is not the kernel's.

mod common;

use common::record;

#[test]
fn detached_programs_and_their_logs_are_as_on_the_engine() {
    let rec = record("logs/record.txt");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_host1(&steps);
    // A foreground container's program prints in the shell.
    let got = common::shell_lines(&sim, &rec, |i| rec[i].0.starts_with("docker run --name"));
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(&got) {
        let want: Vec<String> = want.lines().filter(|l| !l.is_empty()).map(common::without_times).collect();
        let lines: Vec<String> = lines.iter().map(|l| common::without_times(l)).collect();
        assert_eq!(lines, want, "`{cmd}` prints as on the engine");
        assert_eq!(status, exit, "`{cmd}` exits as on the engine");
    }
}
