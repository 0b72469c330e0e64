//! A program that fails gives its step its own exit status, as a shell shows it: iputils
//! ping, curl, judged by the kernel (`traces/programs/exit-statuses/record.txt`, made by
//! `record.sh` beside it, on a namespace like `host1` here: 192.168.99.101/24, no
//! default route, nobody else on the LAN).

mod common;

#[test]
fn failing_programs_exit_as_on_the_kernel() {
    let rec = common::transcript("programs/exit-statuses/record.txt");
    assert!(rec.len() >= 8, "the record has its cases");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.clone()).collect();
    let sim = common::run_on_host1(&steps);
    let d = sim.director.as_ref().expect("a lab with hosts");
    assert_eq!(d.transcript.len(), rec.len(), "every step ran");
    let out = sim.app_output();
    for ((cmd, (want, exit)), log) in rec.iter().zip(&d.transcript) {
        assert_eq!(&log.line, cmd);
        assert_eq!(log.status, *exit, "`{cmd}` exits as on the kernel");
        // The shell shows a failure's status after the program's lines.
        let shown = out.iter().any(|(ns, l)| ns == "host1" && *l == format!("  (exit status {exit})"));
        assert!(*exit == 0 || shown, "`{cmd}`: no `(exit status {exit})` in the log");
        // curl names the failure by the code it exits with.
        if let Some(code) = want.lines().find_map(|l| l.strip_prefix("curl: (")) {
            let code = code.split(')').next().unwrap_or_default();
            assert!(
                out.iter().any(|(_, l)| l.starts_with(&format!("curl: ({code})"))),
                "`{cmd}`: curl says ({code}) on the kernel"
            );
        }
    }
}
