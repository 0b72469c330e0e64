//! `ping` prints what the program it stands for prints, line for line: busybox's applet in
//! an alpine container, as on Docker Engine 20.10.24 (`traces/docker/busybox-ping/`), and
//! iputils on a host, as on the kernel (`traces/programs/exit-statuses/`, and with `-t`
//! `traces/programs/ping-ttl/`). Times are the only thing the records leave out (`TIME`);
//! the frames of busybox's first case are kept in `record.pcapng` beside its record.

mod common;

/// The record's normalisation (`record.sh`'s sed): a reply's time, the summary's time and
/// the round-trip line's figures become `TIME`.
fn normalise(l: &str) -> String {
    let mut l = l.to_string();
    for (start, end, keep_end) in [("time=", " ms", true), ("time ", "ms", true), ("= ", " ms", true)] {
        if let Some(i) = l.find(start) {
            let from = i + start.len();
            if let Some(j) = l[from..].find(end) {
                let figures = &l[from..from + j];
                if !figures.is_empty() && figures.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '/') {
                    let tail = if keep_end { &l[from + j..] } else { "" };
                    l = format!("{}TIME{tail}", &l[..from]);
                }
            }
        }
    }
    l
}

/// [`common::step_outputs`] with each line normalised as the records are.
fn run(rec: &[(String, (String, u8))], from_host: bool) -> Vec<(Vec<String>, u8)> {
    common::step_outputs(rec, from_host)
        .into_iter()
        .map(|(lines, status)| (lines.iter().map(|l| normalise(l)).collect(), status))
        .collect()
}

#[test]
fn busybox_ping_in_an_alpine_container_prints_as_on_the_engine() {
    let rec = common::record("busybox-ping/record.txt");
    assert!(rec.len() >= 17, "the record has its cases");
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(run(&rec, false)) {
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(lines, want, "`{cmd}` prints as busybox did");
        assert_eq!(status, *exit, "`{cmd}` exits as busybox did");
    }
}

#[test]
fn iputils_ping_on_a_host_prints_as_on_the_kernel() {
    let rec: Vec<_> = common::transcript("programs/exit-statuses/record.txt")
        .into_iter()
        .filter(|(c, _)| c.starts_with("ping "))
        .collect();
    assert!(rec.len() >= 9, "the record has its pings");
    prints_as_iputils_did(&rec, run(&rec, true));
}

/// Every step's lines and status against iputils' in the record `rec`.
fn prints_as_iputils_did(rec: &[(String, (String, u8))], got: Vec<(Vec<String>, u8)>) {
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(got) {
        let mut lines: Vec<&str> =
            lines.iter().map(String::as_str).filter(|l| !l.starts_with("(exit status")).collect();
        // The record kept each output through the shell's `$(…)`, which drops the empty line
        // iputils ends with when it has no round trips to show (`fragments.rs` keeps it).
        while lines.last() == Some(&"") {
            lines.pop();
        }
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(lines, want, "`{cmd}` prints as iputils did");
        assert_eq!(status, *exit, "`{cmd}` exits as iputils did");
    }
}

/// The echo requests of busybox's first case, as its record's capture holds them, against
/// the simulator's for the same command: the same sequence numbers (from 0), DF, TTL and
/// data, but for the sender's clock in the data's first 4 bytes and the identifier (its
/// process ID).
#[test]
fn busybox_requests_carry_what_busybox_puts_in_them() {
    let echo_requests = |frames: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        frames.into_iter().filter(|f| f.len() >= 42 && f[12..14] == [8, 0] && f[23] == 1 && f[34] == 8).collect()
    };
    let engine = echo_requests(common::captured("docker/busybox-ping/record.pcapng"));
    assert_eq!(engine.len(), 2, "`ping -c 2 c2` sent two requests on the engine");
    let steps = [
        "docker network create --subnet 10.81.0.0/24 pingnet",
        "docker run -dit --name c1 --network pingnet alpine",
        "docker run -dit --name c2 --network pingnet alpine",
        "docker exec c1 ping -c 2 c2",
    ];
    let sim = common::run_on_host1(&steps.map(String::from));
    let simulated = echo_requests(common::sent_on(&sim, "host1:c1/eth0"));
    assert_eq!(simulated.len(), engine.len(), "as many requests");
    for (s, e) in simulated.iter().zip(&engine) {
        assert_eq!(s.len(), e.len(), "frame length");
        assert_eq!(s[40..42], e[40..42], "sequence number");
        assert_eq!(s[20] & 0x40, e[20] & 0x40, "DF");
        assert_eq!(s[22], e[22], "TTL");
        assert_eq!(s[46..], e[46..], "data after the clock");
    }
}

/// `ping -t TTL` across one router, as iputils did on the kernel
/// (`traces/programs/ping-ttl/record.txt`): the router's `Time to live exceeded` for each
/// request, one hop more and the echo comes back, and the TTLs iputils refuses.
#[test]
fn iputils_ping_with_a_ttl_prints_as_on_the_kernel() {
    let rec = common::transcript("programs/ping-ttl/record.txt");
    assert!(rec.len() >= 6, "the record has its cases");
    let steps: String = rec.iter().map(|(c, _)| format!("        (on: \"client\", run: \"{c}\"),\n")).collect();
    let text = format!(
        r#"Scenario(
    name: "ping-ttl",
    {plan}
    steps: [
{steps}    ],
)"#,
        plan = common::router_plan("192.168.1.2", "192.168.1.1", "203.0.113.1", "203.0.113.10"),
    );
    let mut sim = sim_core::scenario::Loaded::from_str("ping-ttl.ron", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .build(None)
        .expect("builds");
    sim.run_until(sim_core::Until::Idle);
    let d = sim.director.as_ref().expect("a lab with steps");
    let mut got: Vec<Vec<String>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns != "client" {
            continue;
        }
        if got.len() < rec.len() && l == rec[got.len()].0 {
            got.push(Vec::new());
        } else if let Some(lines) = got.last_mut()
            && !l.starts_with("  (exit status")
        {
            lines.push(normalise(l.strip_prefix("  ").unwrap_or(&l)));
        }
    }
    assert_eq!(got.len(), rec.len(), "every step's command is in the log");
    for (((cmd, (want, exit)), mut lines), log) in rec.iter().zip(got).zip(&d.transcript) {
        // `$(…)` in the record dropped iputils' closing empty line.
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        assert_eq!(lines, want.lines().collect::<Vec<_>>(), "`{cmd}` prints as iputils did");
        assert_eq!(log.status, *exit, "`{cmd}` exits as iputils did");
    }
}

/// iputils pinging a name asks for the name of every reply's source (`pr_addr`, ping/ping.c)
/// and prints it before the address, as on the engine (`traces/docker/iputils-names/`): the
/// container's name on its network, also for an alias; an address or `-n` asks nothing.
///
/// A name for an address no one answers ARP for (`ghost`, an `--add-host` line): the three
/// requests the neighbour held fail together with "Destination Host Unreachable" from the
/// pinger's own address, named from its /etc/hosts (`From c3 (10.85.0.4)`), the fourth fails
/// three seconds later, and the summary ends with `pipe 3`. The record's last two cases ping
/// the same address again: there the fourth request went out while two of the three errors
/// were still queued on the socket, so sendmsg(2) returned the pending EHOSTUNREACH
/// (`ping: sendmsg: No route to host`, `+3 errors`). Which of the two a run shows is a race
/// between ping's wake-up and its reading of the error queue; the simulator reads every
/// error before its next request, as in the first case, and those two cases are left out.
#[test]
fn iputils_ping_of_a_name_names_each_replys_source() {
    let rec = common::record("iputils-names/record.txt");
    assert!(rec.len() >= 12, "the record has its cases");
    let raced = ["docker exec c3 ping -c 4 10.85.0.99", "docker exec c3 ping -q -c 4 ghost"];
    let got = run(&rec, false);
    let (rec, got): (Vec<_>, Vec<_>) =
        rec.into_iter().zip(got).filter(|((c, _), _)| !raced.contains(&c.as_str())).unzip();
    assert_eq!(rec.len(), 10, "all cases but the two raced ones are compared");
    prints_as_iputils_did(&rec, got);
}

/// The PTR query of the record's first reply and the embedded DNS's answer, against the
/// simulator's: the same messages but their ids.
#[test]
fn the_reply_sources_ptr_query_and_answer_are_the_engines_bytes() {
    let dns = |frames: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        frames
            .into_iter()
            .filter(|f| f.len() > 42 && f[12..14] == [8, 0] && f[23] == 17)
            .map(|f| f[42..].to_vec())
            .filter(|m| m.len() > 12 && m.windows(8).any(|w| w == b"\x07in-addr"))
            .collect()
    };
    let engine = dns(common::captured("docker/iputils-names/record.pcapng"));
    assert_eq!(engine.len(), 4, "a PTR query and its answer per reply on the engine");
    let steps: Vec<String> = common::record("iputils-names/record.txt").into_iter().take(4).map(|(c, _)| c).collect();
    let sim = common::run_on_host1(&steps);
    let simulated = dns(common::sent_on(&sim, "host1:c1/lo"));
    assert_eq!(simulated.len(), engine.len(), "as many PTR queries and answers");
    for (s, e) in simulated.iter().zip(&engine) {
        assert_eq!(s[2..], e[2..], "the same message but its id");
    }
}

/// `ping -I DEV|ADDR` with iputils and busybox, on the topology of
/// traces/kernel/linux/ping-bind.ron, against what each printed on the kernel
/// (`traces/kernel/linux/ping-bind.txt`, made by its `ping-bind.sh`): the header's source and
/// device, no word of the error the kernel makes about a device-bound socket's request, and
/// each program's words and status for a name that is neither a device nor a local address.
#[test]
fn ping_bound_with_dash_i_prints_as_on_the_kernel() {
    use sim_core::scenario::Loaded;
    let rec = common::transcript("kernel/linux/ping-bind.txt");
    assert_eq!(rec.len(), 12, "the record has its cases");
    let plan = std::fs::read_to_string(format!("{}/../traces/kernel/linux/ping-bind.ron", env!("CARGO_MANIFEST_DIR")))
        .expect("the lab is kept beside its record");
    let plan = &plan[plan.find("    plan: (").expect("a plan")..plan.find("    traffic: [").expect("traffic")];
    for (cmd, (want, exit)) in &rec {
        let busybox = cmd.starts_with("busybox ");
        let words: Vec<&str> = cmd.split_whitespace().skip(if busybox { 2 } else { 1 }).collect();
        let mut ping = String::from("Ping(ns: \"a\", count: 1");
        let mut i = 0;
        while i < words.len() {
            match words[i] {
                "-c" => i += 1,
                "-W" => {
                    ping += &format!(", wait: \"{}s\"", words[i + 1]);
                    i += 1;
                }
                "-I" => {
                    ping += &format!(", interface: \"{}\"", words[i + 1]);
                    i += 1;
                }
                dst => ping += &format!(", dst: \"{dst}\""),
            }
            i += 1;
        }
        if busybox {
            ping += ", flavour: busybox";
        }
        let text = format!("Scenario(\n    name: \"ping -I\",\n{plan}    traffic: [{ping})],\n)\n");
        let mut sim = Loaded::from_str("ping-bind.ron", &text).expect("loads").build(None).expect("builds");
        sim.run_until(sim_core::Until::Idle);
        let lines: Vec<String> = sim.app_output().into_iter().map(|(_, l)| normalise(&l)).collect();
        // The record's `T` stands for figures; `normalise` makes both sides' `TIME`.
        let want: Vec<String> = want
            .lines()
            .map(|l| normalise(&l.replace("time=T ms", "time=1 ms").replace("= T ms", "= 1/1/1 ms")))
            .collect();
        assert_eq!(lines, want, "`{cmd}` prints as it did on the kernel");
        let status = sim.world.user.apps.last().map(|a| a.status);
        assert_eq!(status, Some(*exit), "`{cmd}` exits as it did");
    }
}
