//! `docker network ls`: the local networks and the swarm's overlays a node lists, filtered
//! (`--filter`) and printed (`--quiet`, `--format`, `--no-trunc`) as the 20.10 daemon and
//! docker/cli do it.
//!
//! The daemon lists the cluster's networks as the manager filters them, then the local ones
//! it has not listed yet (moby v20.10 `api/server/router/network/network_routes.go`,
//! `getNetworksList`). The manager takes a `name` value whole and an `id` value as a prefix
//! (`daemon/cluster/networks.go`, `GetNetworks`: swarmkit's `Names` and `NamePrefixes` must
//! both hold); the local list matches both as regular expressions
//! (`daemon/network/filter.go`, `FilterNetworks`). An overlay that the node has
//! instantiated is in both lists, so a pattern finds it there: `-f name=^ov` lists `ov` only
//! where a container or task of it runs (traces/docker/network-ls/).

use std::collections::BTreeMap;

use serde_json::json;

use super::cli;
use super::engine::{Engine, EngineError, network_driver_name, pattern_match};

/// An overlay as the node lists it.
pub struct ListedOverlay {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The node has it instantiated (ingress; an overlay with a task or container here).
    pub local: bool,
    /// `--internal`.
    pub internal: bool,
}

/// One row of the list.
struct Row {
    id: String,
    name: String,
    driver: String,
    scope: &'static str,
    internal: bool,
    labels: BTreeMap<String, String>,
    /// From the manager's list and not (also) from the node's.
    cluster_only: bool,
}

/// The filter keys the daemon takes (`acceptedFilters`).
const ACCEPTED: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

/// The networks that exist on every daemon (`runconfig.IsPreDefinedNetwork`): `-f type=builtin`.
const BUILTIN: &[&str] = &["bridge", "host", "none", "default"];

fn err(m: impl Into<String>) -> EngineError {
    EngineError(m.into())
}

pub fn list(engine: &Engine, l: &cli::NetworkLs, overlays: &[ListedOverlay]) -> Result<String, EngineError> {
    let mut terms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &l.filters {
        let (k, v) = f.split_once('=').unwrap_or((f, ""));
        let k = k.trim().to_ascii_lowercase();
        if !ACCEPTED.contains(&k.as_str()) {
            return Err(err(format!("Error response from daemon: Invalid filter '{k}'")));
        }
        if k == "dangling" {
            return Err(err("netsim: `docker network ls --filter dangling=…` is not modelled"));
        }
        if matches!(k.as_str(), "name" | "id") {
            pattern_match(v, "")?;
        }
        terms.entry(k).or_default().push(v.trim().to_string());
    }
    for t in terms.get("type").into_iter().flatten() {
        if t != "builtin" && t != "custom" {
            return Err(err(format!("Error response from daemon: invalid filter: 'type'='{t}'")));
        }
    }
    let mut rows: Vec<Row> = engine
        .networks
        .iter()
        .map(|n| Row {
            id: n.id.clone(),
            name: n.name.clone(),
            driver: network_driver_name(n.driver).to_string(),
            scope: "local",
            internal: n.internal,
            labels: n.labels.clone(),
            cluster_only: false,
        })
        .chain(overlays.iter().map(|o| Row {
            id: o.id.clone(),
            name: o.name.clone(),
            driver: "overlay".into(),
            scope: "swarm",
            internal: o.internal,
            labels: o.labels.clone(),
            cluster_only: !o.local,
        }))
        .filter(|r| keeps(&terms, r))
        .collect();
    // docker/cli sorts by name (`cli/command/network/list.go`).
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let id = |r: &Row| if l.no_trunc { r.id.clone() } else { r.id.chars().take(12).collect() };
    let format = match (&l.format, l.quiet) {
        (Some(f), _) => f.clone(),
        (None, true) => return Ok(rows.iter().map(|r| format!("{}\n", id(r))).collect()),
        (None, false) => "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}".into(),
    };
    let (table, body) = super::list_format(&format);
    let mut lines = Vec::new();
    for r in &rows {
        let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // docker/cli's network context (`cli/command/formatter/network.go`): every field a
        // string.
        let v = json!({
            "ID": id(r),
            "Name": r.name,
            "Driver": r.driver,
            "Scope": r.scope,
            "IPv6": "false",
            "Internal": r.internal.to_string(),
            "Labels": labels.join(","),
        });
        let line = super::template::render(&body, &v)
            .map_err(|e| super::template_error(e, "template parsing error: ", "*network.networkContext"))?;
        lines.push(line);
    }
    // docker/cli's `…Header` constants.
    const HEADS: &[(&str, &str)] = &[
        ("ID", "NETWORK ID"),
        ("Name", "NAME"),
        ("Driver", "DRIVER"),
        ("Scope", "SCOPE"),
        ("IPv6", "IPV6"),
        ("Internal", "INTERNAL"),
        ("Labels", "LABELS"),
    ];
    Ok(super::format_lines(table, &body, lines, HEADS))
}

/// Whether row `r` passes every filter key (a key's values are alternatives, except
/// `label`'s, which must all hold: `filters.Args.MatchKVList`).
fn keeps(terms: &BTreeMap<String, Vec<String>>, r: &Row) -> bool {
    let matches = |v: &str, s: &str| v == s || pattern_match(v, s).unwrap_or(false);
    terms.iter().all(|(k, vs)| match k.as_str() {
        "driver" => vs.contains(&r.driver),
        "scope" => vs.iter().any(|v| v == r.scope),
        "name" if r.cluster_only => vs.contains(&r.name),
        "name" => vs.iter().any(|v| matches(v, &r.name)),
        "id" if r.cluster_only => vs.iter().any(|v| r.id.starts_with(v.as_str()) && matches(v, &r.id)),
        "id" => vs.iter().any(|v| matches(v, &r.id)),
        "label" => vs.iter().all(|v| super::label_matches(&r.labels, v)),
        "type" => vs.iter().any(|v| (v == "builtin") == BUILTIN.contains(&r.name.as_str())),
        _ => true,
    })
}
