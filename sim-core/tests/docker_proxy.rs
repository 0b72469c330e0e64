//! docker-proxy in the simulator as on Docker Engine 20.10.24
//! (`traces/docker/docker-proxy/record.txt`, made by `record.sh` beside it): the host's
//! `curl` to 127.0.0.1 or localhost and a container's request to its bridge's gateway
//! address reach a published port through the proxy (a port published on 127.0.0.1 only is
//! refused from the bridge); the server sees the gateway address as its client; a container
//! that does not listen leaves the client an empty reply; a stopped container's port refuses.
//!
//! A client's ephemeral port is compared as `EPH`, as the record writes it.

mod common;

use common::record;

/// What the simulator says beside a program's lines: a connection's progress, the
/// response curl got, the server's and the proxy's notes, a message `-s` kept quiet.
fn note(l: &str) -> bool {
    common::is_note(l)
        || l.starts_with("tcp ")
        || l.starts_with("curl: HTTP/")
        || l.starts_with("httpd: ")
        || l.starts_with("docker-proxy: ")
        || l.ends_with("(not shown: -s)")
}

/// `:PORT` in Linux's ephemeral range (32768–60999) as `:EPH`, as record.sh's sed does.
fn eph(l: &str) -> String {
    let mut out = String::new();
    let mut rest = l;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(p) = rest[..n].parse::<u32>()
            && (32768..=60999).contains(&p)
            && matches!(rest[n..].chars().next(), None | Some(' ' | ')'))
        {
            out.push_str("EPH");
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn published_ports_answer_through_docker_proxy_as_on_the_engine() {
    let rec = record("docker-proxy/record.txt");
    assert!(rec.len() >= 15, "the record has its cases");
    let sim = common::run_record(&rec);
    // Whose lines a step shows: the host's own program, or the exec'd container's.
    let whose: Vec<String> = rec
        .iter()
        .map(|(c, _)| match c.strip_prefix("docker exec ") {
            Some(r) => format!("host1:{}", r.split(' ').next().unwrap_or_default()),
            None => "host1".to_string(),
        })
        .collect();
    let mut got: Vec<Vec<String>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && got.len() < rec.len() && l == rec[got.len()].0 {
            got.push(Vec::new());
            continue;
        }
        let step = got.len().wrapping_sub(1);
        let Some(lines) = got.last_mut() else { continue };
        match l.strip_prefix("  ") {
            Some(s) if ns == "host1" => {
                if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    lines.push("ID".into());
                } else if !s.starts_with("(exit status ") {
                    lines.push(eph(s));
                }
            }
            _ if ns == whose[step] && !note(&l) && !l.is_empty() => lines.push(eph(&l)),
            _ => {}
        }
    }
    let d = sim.director.as_ref().expect("a lab with hosts");
    assert_eq!(got.len(), rec.len(), "every step's command is in the log");
    for (((cmd, (want, exit)), lines), log) in rec.iter().zip(&got).zip(&d.transcript) {
        let want: Vec<&str> = want.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, &want, "`{cmd}` prints as on the engine");
        assert_eq!(log.status, *exit, "`{cmd}` exits as on the engine");
    }
}
