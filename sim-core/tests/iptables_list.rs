//! `iptables -L` with its options, and `iptables-save -c`'s order of the tables, against what
//! iptables 1.8.9 (nf_tables) printed on the kernel for the same rules
//! (`traces/kernel/iptables-list/`: `rules.txt` restored with `iptables-restore -c`, then
//! `record.sh`'s listings into `record.txt`).

mod common;

use std::net::Ipv4Addr;

use sim_core::kernel::netfilter::{Names, Netfilter};
use sim_core::tools::{self, Tool};

#[test]
fn iptables_lists_as_it_did_on_the_kernel() {
    let rec = common::transcript("kernel/iptables-list/record.txt");
    assert!(rec.len() >= 30, "{} commands", rec.len());
    let rules =
        std::fs::read_to_string(format!("{}/../traces/kernel/iptables-list/rules.txt", env!("CARGO_MANIFEST_DIR")))
            .expect("the rules are kept beside the record");
    let mut nf = Netfilter::new();
    nf.restore(&rules).expect("the simulator takes the rules the kernel took");
    // The recording machine's /etc/hosts names 127.0.0.1 only.
    let hosts = [(Ipv4Addr::LOCALHOST, "localhost".to_string())];
    let names = Names { hosts: &hosts };
    let mut diffs = Vec::new();
    for (cmd, (want, status)) in &rec {
        let words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
        let (got, got_status) = match tools::parse(&words).expect("iptables is a program the simulator runs") {
            Ok(Tool::IptablesList { table, chain, rule, flags }) => {
                match nf.list(table, chain.as_deref(), rule, flags, &names) {
                    Ok(text) => (text, 0),
                    Err(e) => (format!("{e}\n"), 1),
                }
            }
            Ok(Tool::IptablesSave { table, counters }) => (nf.save_tables(table, counters), 0),
            Ok(other) => panic!("`{cmd}` parsed as {other:?}"),
            Err(e) => (format!("{}\n", e.message), e.status),
        };
        if got != *want || got_status != *status {
            let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
            let lines: Vec<String> = (0..w.len().max(g.len()))
                .filter(|&i| w.get(i) != g.get(i))
                .take(4)
                .map(|i| {
                    format!(
                        "  line {}:\n    kernel `{}`\n    netsim `{}`",
                        i + 1,
                        w.get(i).unwrap_or(&""),
                        g.get(i).unwrap_or(&"")
                    )
                })
                .collect();
            diffs.push(format!("$ {cmd} (kernel exit {status}, netsim {got_status})\n{}", lines.join("\n")));
        }
    }
    assert!(diffs.is_empty(), "{} of {} differ:\n{}", diffs.len(), rec.len(), diffs.join("\n"));
}
