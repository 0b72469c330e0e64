//! Helpers shared by sim-core's tests: reading the transcripts kept under `traces/docker/`.

/// (command, (output, exit status)) for each block of a record kept by hand under
/// `traces/docker/`: `$ command`, what it printed, `[exit N]`; `#` lines are comments.
pub fn record(name: &str) -> Vec<(String, (String, u8))> {
    let path = format!("{}/../traces/docker/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the record is kept in the repository");
    let mut out = Vec::new();
    let mut cmd: Option<String> = None;
    let mut body = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(c) = line.strip_prefix("$ ") {
            cmd = Some(c.to_string());
            body.clear();
        } else if let Some(code) = line.strip_prefix("[exit ").and_then(|l| l.strip_suffix(']')) {
            let c = cmd.take().expect("an exit status follows a command");
            out.push((c, (std::mem::take(&mut body), code.parse().expect("a number"))));
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// `output` without what only a machine without a registry prints about an image when a
/// service is made or changed ("image alpine:latest could not be accessed on a registry…").
/// (Each test file builds this module anew; not all of them use this.)
#[allow(dead_code)]
pub fn without_registry_warnings(output: &str) -> String {
    output
        .lines()
        .filter(|l| {
            !((l.starts_with("image ") && l.contains(" could not be accessed on a registry"))
                || l.starts_with("its digest.")
                || l.starts_with("possibly leading")
                || l.starts_with("versions of the image"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}
