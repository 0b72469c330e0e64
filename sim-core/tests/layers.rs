//! sim-core's layers depend one way only (ARCHITECTURE.md, *Layers*): the kernel model knows
//! nothing of programs, Docker or scenarios; the programs know nothing of Docker; the Docker
//! model knows nothing of scenarios, grading or the event loop. This test reads every
//! `crate::` path in the library's sources (tests and comments aside) and fails on one that
//! reaches a higher layer, naming the file, the line and the path.

use std::path::{Path, PathBuf};

/// Bottom up: each layer may use its own modules and those of the layers below.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["engine", "wire", "plan"]),
    ("kernel", &["kernel"]),
    ("userland", &["userland"]),
    ("docker", &["docker"]),
    (
        "director",
        &[
            "director", "sim", "scenario", "lesson", "grade", "quiz", "tools", "netconf", "bench", "capture", "spans",
            "export", "gloss",
        ],
    ),
];

/// What lib.rs re-exports at the crate root, by the module each comes from.
const ROOT_NAMES: &[(&str, &str)] = &[
    ("SimTime", "engine"),
    ("EventId", "engine"),
    ("World", "userland"),
    ("Sim", "sim"),
    ("Stall", "sim"),
    ("StepOutcome", "sim"),
    ("Until", "sim"),
];

fn layer_of_module(m: &str) -> Option<usize> {
    let m = ROOT_NAMES.iter().find(|(n, _)| *n == m).map_or(m, |(_, module)| *module);
    LAYERS.iter().position(|(_, mods)| mods.contains(&m))
}

/// The code of a file without its tests (a `#[cfg(test)]` item runs to the end of the file,
/// as every file here keeps its tests last) and without comment lines.
fn code(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
        .collect()
}

/// The first segment of every `crate::` path on a line, `crate::{a, b::c}` included.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        // `sim_core::` or `my_crate::` are other crates' paths, not this one's.
        let word_before = rest[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !word_before {
            if let Some(group) = after.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                out.extend(inner.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
            } else {
                out.push(after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
            }
        }
        rest = after;
    }
    out.retain(|p| !p.is_empty());
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "testdata") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") && p.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(p);
        }
    }
}

/// Every use of a higher layer in `text`, a file of module `module`.
fn violations(module: &str, text: &str) -> Vec<String> {
    let Some(own) = layer_of_module(module) else {
        return vec![format!("module `{module}` is in no layer: add it to LAYERS")];
    };
    let mut found = Vec::new();
    for (n, line) in code(text) {
        for p in crate_paths(line) {
            match layer_of_module(&p) {
                Some(l) if l > own => found.push(format!(
                    "line {n}: `crate::{p}` is in layer {}, above {} ({})",
                    LAYERS[l].0,
                    LAYERS[own].0,
                    line.trim()
                )),
                Some(_) => {}
                None => found.push(format!("line {n}: `crate::{p}` is in no layer: add it to LAYERS")),
            }
        }
    }
    found
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let module = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
        let module = module.strip_suffix(".rs").unwrap_or(module);
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read source");
        all.extend(violations(module, &text).into_iter().map(|v| format!("{}: {v}", rel.display())));
    }
    assert!(files.len() > 50, "found only {} source files under {}", files.len(), src.display());
    assert!(all.is_empty(), "upward dependencies:\n{}", all.join("\n"));
}

#[test]
fn the_check_sees_grouped_paths_and_root_names_but_not_tests_or_comments() {
    let text = "use crate::engine::SimTime;\n\
                use crate::{plan, director::Director};\n\
                // crate::sim in a comment\n\
                fn f(w: &crate::World) {}\n\
                #[cfg(test)]\n\
                mod tests { use crate::scenario::Loaded; }\n";
    let v = violations("kernel", text);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].starts_with("line 2: `crate::director`"), "{v:?}");
    assert!(v[1].starts_with("line 4: `crate::World`"), "{v:?}");
    assert!(violations("director", text).is_empty());
    assert_eq!(violations("nowhere", "").len(), 1);
    assert!(crate_paths("sim_core::kernel::World").is_empty());
}
