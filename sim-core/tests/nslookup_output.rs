//! `nslookup` in an alpine container is busybox's applet and prints what it printed on
//! Docker Engine 20.10.24 (`traces/docker/busybox-nslookup/`): the server with its port
//! after a colon, a block per reply, NXDOMAIN for a name the embedded DNS forwards, the
//! container's name on its network for an address, exit status 1 when a reply carried an
//! error. Its queries and the embedded DNS's answers are the bytes of the record's capture.

mod common;

/// The record's output of one command, as the program printed it: the server's lines, then
/// the reply blocks sorted (the engine's embedded DNS answers each query on its own
/// goroutine, so which of A and AAAA is printed first varies from run to run: the record
/// has both orders), without the empty line the shell's `$(…)` dropped at the end.
fn canonical(lines: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut lines: Vec<&str> = lines.to_vec();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    let head = lines.iter().take(3).map(|l| l.to_string()).collect();
    let mut blocks: Vec<String> = lines[3.min(lines.len())..].split(|l| l.is_empty()).map(|b| b.join("\n")).collect();
    blocks.sort();
    (head, blocks)
}

#[test]
fn busybox_nslookup_in_an_alpine_container_prints_as_on_the_engine() {
    let rec = common::record("busybox-nslookup/record.txt");
    assert!(rec.len() >= 11, "the record has its cases");
    for ((cmd, (want, exit)), (lines, status)) in rec.iter().zip(common::step_outputs(&rec, false)) {
        // The default bridge's container asks the host's nameserver; a lab's hosts have
        // none, so Docker's fallback (services::OUTSIDE_DNS) stands in for it.
        let want = want.replace("HOST_NAMESERVER", "8.8.8.8");
        let want: Vec<&str> = want.lines().collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(canonical(&lines), canonical(&want), "`{cmd}` prints as busybox did:\n{}", lines.join("\n"));
        assert_eq!(status, *exit, "`{cmd}` exits as busybox did");
    }
}

/// The UDP payloads on c1's `lo` in the record's capture of `nslookup c2` (A query, its
/// answer, AAAA query, its answer) against the simulator's: byte for byte but the query
/// ids, which res_mkquery draws at random; both queries from one socket.
#[test]
fn busybox_queries_and_the_answers_are_the_engines_bytes() {
    let udp = |frames: Vec<Vec<u8>>| -> Vec<(u16, Vec<u8>)> {
        frames
            .into_iter()
            .filter(|f| f.len() > 42 && f[12..14] == [8, 0] && f[23] == 17)
            .map(|f| (u16::from_be_bytes([f[34], f[35]]), f[42..].to_vec()))
            .collect()
    };
    let engine = udp(common::captured("docker/busybox-nslookup/record.pcapng"));
    assert_eq!(engine.len(), 4, "two queries and two answers on the engine");

    let steps = [
        "docker network create --subnet 10.83.0.0/24 dnsnet",
        "docker run -dit --name c1 --network dnsnet alpine",
        "docker run -dit --name c2 --network dnsnet --network-alias db alpine",
        "docker exec c1 nslookup c2",
    ];
    let sim = common::run_on_host1(&steps.map(String::from));
    let simulated = udp(common::sent_on(&sim, "host1:c1/lo"));
    assert_eq!(simulated.len(), 4, "two queries and two answers in the simulator");
    let (queries, answers): (Vec<_>, Vec<_>) = simulated.iter().partition(|(sport, _)| *sport != 53);
    let (eq, ea): (Vec<_>, Vec<_>) = engine.iter().partition(|(sport, _)| *sport != 53);
    assert_eq!(queries[0].0, queries[1].0, "both queries from one socket");
    assert_eq!(eq[0].0, eq[1].0, "both queries from one socket on the engine too");
    for (s, e) in queries.iter().chain(&answers).zip(eq.iter().chain(&ea)) {
        assert_eq!(s.1[2..], e.1[2..], "the same message but its id");
    }
}
