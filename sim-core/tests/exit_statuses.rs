//! A program that fails gives its step its own exit status, as a shell shows it, and ping's
//! `-i`, `-W`, `-w` and `-q` do what iputils does: judged by the kernel
//! (`traces/programs/exit-statuses/record.txt`, made by `record.sh` beside it, on a namespace
//! like `host1` here: 192.168.99.101/24, no default route, nobody else on the LAN).

mod common;

/// `N packets transmitted, M received` in a line, as (N, M).
fn counts(line: &str) -> Option<(u32, u32)> {
    let (before, after) = line.split_once(" packets transmitted, ")?;
    let sent = before.rsplit(' ').next()?.parse().ok()?;
    let received = after.split(' ').next()?.parse().ok()?;
    Some((sent, received))
}

#[test]
fn programs_print_and_exit_as_on_the_kernel() {
    let rec = common::transcript("programs/exit-statuses/record.txt");
    assert!(rec.len() >= 13, "the record has its cases");
    let sim = common::run_record(&rec);
    let d = sim.director.as_ref().expect("a lab with hosts");
    // Each step's lines in the simulator, from its command line on.
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && lines.len() < rec.len() && l == rec[lines.len()].0 {
            lines.push(Vec::new());
        } else if let Some(last) = lines.last_mut() {
            last.push(l);
        }
    }
    assert_eq!(lines.len(), rec.len(), "every step's command is in the log");
    for (((cmd, (want, exit)), log), got) in rec.iter().zip(&d.transcript).zip(&lines) {
        assert_eq!(&log.line, cmd);
        assert_eq!(log.status, *exit, "`{cmd}` exits as on the kernel");
        // The shell shows a failure's status after the program's lines.
        let shown = got.iter().any(|l| *l == format!("  (exit status {exit})"));
        assert_eq!(*exit != 0, shown, "`{cmd}`: `(exit status {exit})` in the log: {got:#?}");
        // curl names the failure by the code it exits with.
        if let Some(code) = want.lines().find_map(|l| l.strip_prefix("curl: (")) {
            let code = code.split(')').next().unwrap_or_default();
            assert!(got.iter().any(|l| l.starts_with(&format!("curl: ({code})"))), "`{cmd}`: curl says ({code})");
        }
        // ping: as many requests and replies, and a line per reply unless `-q`.
        if let Some(want_counts) = want.lines().find_map(counts) {
            assert_eq!(got.iter().find_map(|l| counts(l)), Some(want_counts), "`{cmd}`: requests and replies");
            let replies = |ls: &mut dyn Iterator<Item = &str>| ls.filter(|l| l.contains(" bytes from ")).count();
            assert_eq!(
                replies(&mut got.iter().map(String::as_str)),
                replies(&mut want.lines()),
                "`{cmd}`: a line per reply"
            );
        }
    }
}
