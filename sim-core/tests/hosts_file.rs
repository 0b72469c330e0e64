//! A container's /etc/hosts, and its resolver reading it before DNS: `--link` on the default
//! bridge, `--add-host` and `--hostname`, as Docker Engine 20.10.24 wrote and resolved them
//! (`traces/docker/hosts-file/record.txt`, made by `record.sh` beside it).

mod common;

use common::record;

#[test]
fn links_added_hosts_and_the_hostname_resolve_from_etc_hosts_as_on_the_engine() {
    let rec = record("hosts-file/record.txt");
    assert!(rec.len() >= 9, "the record has its cases");
    let steps: Vec<String> = rec.iter().map(|(c, _)| c.replace(" alpine", " alpine sleep 1000")).collect();
    let sim = common::run_on_host1(&steps);
    let d = sim.director.as_ref().expect("a Docker lab");
    // What each ping resolved its name to in the simulator: the resolver's note, or none.
    let mut resolved: Vec<Option<String>> = Vec::new();
    for (ns, l) in sim.app_output() {
        if ns == "host1" && l.contains(" ping -c 1 ") {
            resolved.push(None);
        } else if let (Some(last), Some(r)) = (resolved.last_mut(), l.strip_prefix("resolved ")) {
            *last = r.split(" → ").nth(1).map(str::to_string);
        }
    }
    let mut pings = resolved.into_iter();
    for ((cmd, (want, status)), log) in rec.iter().zip(&d.transcript) {
        let got = match &log.output {
            Ok(t) | Err(t) => t.clone(),
        };
        if cmd.contains(" cat /etc/hosts") {
            let short = |s: &str| -> String {
                s.split('\t')
                    .map(|w| {
                        w.split(' ')
                            .map(|x| match x.len() == 12 && x.chars().all(|c| c.is_ascii_hexdigit()) {
                                true => "SHORTID",
                                false => x,
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("\t")
            };
            let got: String = got.lines().map(|l| short(l) + "\n").collect();
            assert_eq!(&got, want, "`{cmd}`");
            assert_eq!(log.status, *status);
        } else if cmd.contains(" ping -c 1 ") {
            // busybox: `PING NAME (ADDRESS): …` once resolved, `ping: bad address` if not.
            let engine = want.lines().next().and_then(|l| l.split(['(', ')']).nth(1)).map(str::to_string);
            let sim = pings.next().expect("the simulator ran this ping");
            assert_eq!(sim, engine, "`{cmd}` resolves as on the engine");
        }
    }
}
